//! The single writer: group commit.
//!
//! One OS thread owns every write. It takes the first queued append, drains whatever else is
//! queued behind it, decides each request (idempotency, expected version), chains and hashes the
//! new events, appends the whole batch to the write-ahead file with one `fdatasync` (see
//! `wal.rs`) while an applier thread applies it to sled's trees, and
//! only when both are done answers everyone in the batch. Concurrent writers therefore share one sync: while it runs, the next
//! batch queues up. Every few MiB, after answering, it checkpoints: sled flush, `fdatasync` of
//! sled's data file, and the write-ahead file starts again from its beginning.
//!
//! A dedicated thread rather than a tokio task because every step here blocks (sled, fsync), and
//! because owning the head position and hash in one place makes the chain trivially sequential.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use sled::IVec;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::error::LedgerError;
use crate::event::{Hash, NewEvent, StoredEvent};
use crate::ledger::{Appended, Durable, ExpectedVersion, Head};
use crate::recovery::checkpoint;
use crate::trees::{
    commit_batch, decode_idempotency, encode_idempotency, stream_key, stream_prefix, u64_at, Trees,
};
use crate::wal::{Wal, CHECKPOINT_BYTES};

/// Upper bound on events committed in one batch, so one write-ahead record stays small.
const MAX_BATCH_EVENTS: usize = 8_192;

/// A batch that takes this long to make durable is logged (debug), with the time in the sync
/// and in sled.
const SLOW_WRITE: std::time::Duration = std::time::Duration::from_millis(50);

/// The version cache is only a cache: past this many streams it is dropped and refilled lazily.
const MAX_CACHED_STREAMS: usize = 100_000;

pub(crate) struct Request {
    pub(crate) stream: String,
    pub(crate) expected: ExpectedVersion,
    pub(crate) events: Vec<NewEvent>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) reply: oneshot::Sender<Result<Appended, LedgerError>>,
}

pub(crate) fn spawn(
    trees: Arc<Trees>,
    wal: Wal,
    durable: Arc<Durable>,
    head: Head,
    last_at_micros: i64,
    requests: mpsc::Receiver<Request>,
) -> Result<JoinHandle<()>, LedgerError> {
    let writer = Writer {
        applier: Applier::spawn(trees.clone())?,
        trees,
        wal,
        durable,
        head,
        last_at_micros,
        versions: HashMap::new(),
        stopped: None,
    };
    Ok(std::thread::Builder::new()
        .name("ledger-writer".into())
        .spawn(move || writer.run(requests))?)
}

struct Writer {
    trees: Arc<Trees>,
    wal: Wal,
    applier: Applier,
    durable: Arc<Durable>,
    /// The last committed event.
    head: Head,
    last_at_micros: i64,
    /// Committed version per stream (a cache over the `streams` tree).
    versions: HashMap<String, u64>,
    /// Set when the write-ahead file and sled may disagree (a failure after the sync), or when a
    /// checkpoint's sync failed: every later append is refused until the ledger is reopened,
    /// which recovers from the write-ahead file.
    stopped: Option<LedgerError>,
}

/// What one request in a batch comes to, before the batch commits.
enum Outcome {
    /// New events `range` of the batch's event list.
    Written(Range<usize>),
    /// The key was used earlier in this same batch: the same events, not written twice.
    RepeatedInBatch(Range<usize>),
    /// The key was used by an earlier batch: these events, nothing written.
    Repeated(Vec<StoredEvent>),
    Refused(LedgerError),
}

/// The batch being assembled.
#[derive(Default)]
struct Batch {
    events: Vec<StoredEvent>,
    log: Vec<(IVec, IVec)>,
    streams: Vec<(IVec, IVec)>,
    idempotency: Vec<(IVec, IVec)>,
    /// Versions as they will be once this batch commits.
    versions: HashMap<String, u64>,
    keys: HashMap<String, Range<usize>>,
}

impl Writer {
    fn run(mut self, requests: mpsc::Receiver<Request>) {
        // `recv` returns queued requests even after every sender is gone, so a shutdown finishes
        // the writes in flight before the loop ends.
        while let Ok(first) = requests.recv() {
            let mut count = first.events.len();
            let mut batch = vec![first];
            while count < MAX_BATCH_EVENTS {
                match requests.try_recv() {
                    Ok(next) => {
                        count += next.events.len();
                        batch.push(next);
                    }
                    Err(_) => break,
                }
            }
            self.commit(batch);
        }
        if let Err(e) = self.checkpoint() {
            tracing::error!(error = %e, "final checkpoint failed; the next open recovers");
        }
    }

    /// Makes sled's own file hold everything, then starts the write-ahead file again.
    fn checkpoint(&mut self) -> Result<(), LedgerError> {
        if self.stopped.is_some() || self.wal.len() == 0 {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let wal_bytes = self.wal.len();
        if let Err(e) = checkpoint(&self.trees, &mut self.wal, self.head.position) {
            return Err(self.stop(e));
        }
        // Appends wait while this runs: its length is what a mutation's worst latency shows.
        tracing::debug!(
            wal_bytes,
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "ledger checkpoint"
        );
        Ok(())
    }

    fn commit(&mut self, requests: Vec<Request>) {
        if let Some(e) = &self.stopped {
            for request in requests {
                let _ = request.reply.send(Err(e.clone()));
            }
            return;
        }
        let mut batch = Batch::default();
        let mut head = self.head;
        let mut last_at = self.last_at_micros;
        let now = Utc::now().timestamp_micros();
        let outcomes: Vec<Outcome> = requests
            .iter()
            .map(|r| self.decide(r, &mut batch, &mut head, &mut last_at, now))
            .collect();

        let result = if batch.log.is_empty() {
            Ok(())
        } else {
            self.write(&mut batch, head)
        };

        match result {
            Ok(()) => {
                self.last_at_micros = last_at;
                self.merge_versions(batch.versions);
                // Publish the position before waking subscribers, so a woken reader sees it.
                self.durable
                    .position
                    .store(head.position, Ordering::Release);
                self.durable.head.send_replace(head);
                for (request, outcome) in requests.into_iter().zip(outcomes) {
                    let answer = match outcome {
                        Outcome::Written(range) => Ok(Appended {
                            events: batch.events[range].to_vec(),
                            duplicate: false,
                        }),
                        Outcome::RepeatedInBatch(range) => Ok(Appended {
                            events: batch.events[range].to_vec(),
                            duplicate: true,
                        }),
                        Outcome::Repeated(events) => Ok(Appended {
                            events,
                            duplicate: true,
                        }),
                        Outcome::Refused(e) => Err(e),
                    };
                    // The caller may have gone away (a dropped request); the write stands.
                    let _ = request.reply.send(answer);
                }
                if self.wal.len() >= CHECKPOINT_BYTES {
                    if let Err(e) = self.checkpoint() {
                        // The write-ahead file still holds everything since the last checkpoint,
                        // and is not reused; but writes stop (see `stop`), because after a failed
                        // sync a later one may report success for pages the kernel dropped.
                        tracing::error!(error = %e, "checkpoint failed; writes are refused until councilflow is restarted");
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "ledger commit failed; every append in the batch was refused");
                for request in requests {
                    let _ = request.reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// Decides one request against the committed state plus what this batch already holds.
    fn decide(
        &mut self,
        request: &Request,
        batch: &mut Batch,
        head: &mut Head,
        last_at: &mut i64,
        now: i64,
    ) -> Outcome {
        if let Some(key) = &request.idempotency_key {
            if let Some(range) = batch.keys.get(key) {
                return Outcome::RepeatedInBatch(range.clone());
            }
            match self.earlier_result(key) {
                Ok(Some(events)) => return Outcome::Repeated(events),
                Ok(None) => {}
                Err(e) => return Outcome::Refused(e),
            }
        }

        let current = match batch.versions.get(&request.stream) {
            Some(&v) => v,
            None => match self.committed_version(&request.stream) {
                Ok(v) => v,
                Err(e) => return Outcome::Refused(e),
            },
        };
        if let ExpectedVersion::Exact(expected) = request.expected {
            if expected != current {
                return Outcome::Refused(LedgerError::Conflict {
                    stream: request.stream.clone(),
                    expected,
                    actual: current,
                });
            }
        }

        let start = batch.events.len();
        let first_position = head.position + 1;
        // Times never go backwards in the log, even if the wall clock does.
        *last_at = (*last_at).max(now);
        let at = DateTime::<Utc>::from_timestamp_micros(*last_at).unwrap_or_default();
        for (i, new) in request.events.iter().enumerate() {
            let mut event = StoredEvent {
                position: head.position + 1,
                stream: request.stream.clone(),
                version: current + 1 + i as u64,
                id: Uuid::now_v7(),
                kind: new.kind().to_owned(),
                at,
                actor: new.actor().to_owned(),
                payload: new.payload().to_owned(),
                prev_hash: head.hash,
                hash: Hash::default(),
            };
            let mut stored = event.encode_stored();
            event.hash = Hash::chain(&event.prev_hash, &stored[64..]);
            stored[32..64].copy_from_slice(&event.hash.0);
            batch.log.push((
                IVec::from(&event.position.to_be_bytes()[..]),
                IVec::from(stored),
            ));
            batch.streams.push((
                IVec::from(stream_key(&event.stream, event.version)),
                IVec::from(&event.position.to_be_bytes()[..]),
            ));
            *head = Head {
                position: event.position,
                hash: event.hash,
            };
            batch.events.push(event);
        }
        let count = request.events.len();
        batch
            .versions
            .insert(request.stream.clone(), current + count as u64);
        let range = start..batch.events.len();
        if let Some(key) = &request.idempotency_key {
            batch.idempotency.push((
                IVec::from(key.as_bytes()),
                encode_idempotency(first_position, count as u32),
            ));
            batch.keys.insert(key.clone(), range.clone());
        }
        Outcome::Written(range)
    }

    /// Makes the batch durable in the write-ahead file and applies it to sled's memory meanwhile.
    fn write(&mut self, batch: &mut Batch, head: Head) -> Result<(), LedgerError> {
        // Nothing reached sled, and nothing usable the file: later appends may well succeed (a
        // full disk that is freed, say).
        self.wal.write(&batch.log, &batch.idempotency)?;
        // The applier works while this thread waits on the device. Readers cannot see the batch
        // yet: they stop at the durable head, which moves only after both succeed.
        self.applier.start(Writes {
            log: std::mem::take(&mut batch.log),
            streams: std::mem::take(&mut batch.streams),
            idempotency: std::mem::take(&mut batch.idempotency),
        });
        let started = std::time::Instant::now();
        let synced = self.wal.sync();
        let sync_took = started.elapsed();
        let applied = self.applier.finish();
        let took = started.elapsed();
        if took >= SLOW_WRITE {
            // Every append in the batch, and every one queued behind it, waited this long: what
            // an operator looking at a slow mutation needs to tell a slow disk from slow sled.
            tracing::debug!(
                events = head.position - self.head.position,
                sync_ms = sync_took.as_secs_f64() * 1e3,
                apply_wait_ms = (took - sync_took).as_secs_f64() * 1e3,
                "slow durable write"
            );
        }
        match (synced, applied) {
            (Ok(()), Ok(())) => {
                self.head = head;
                Ok(())
            }
            // Either sled now holds events whose durability is unknown, or the write-ahead file
            // holds a batch sled lacks. Both are settled by recovery at the next open; until
            // then these positions must not be handed out again.
            (Err(e), _) | (Ok(()), Err(e)) => Err(self.stop(e)),
        }
    }

    /// Refuses every later append until the ledger is reopened (and recovers).
    fn stop(&mut self, e: LedgerError) -> LedgerError {
        self.stopped = Some(LedgerError::Storage(format!(
            "writes stopped after a storage failure ({e}); restart councilflow to recover"
        )));
        e
    }

    fn merge_versions(&mut self, versions: HashMap<String, u64>) {
        if self.versions.len() + versions.len() > MAX_CACHED_STREAMS {
            self.versions.clear();
        }
        self.versions.extend(versions);
    }

    /// The stream's committed version, from the cache or the `streams` tree.
    fn committed_version(&mut self, stream: &str) -> Result<u64, LedgerError> {
        if let Some(&v) = self.versions.get(stream) {
            return Ok(v);
        }
        let version = match self
            .trees
            .streams
            .scan_prefix(stream_prefix(stream))
            .next_back()
        {
            Some(item) => {
                let (key, _) = item?;
                u64_at(&key, key.len() - 8).unwrap_or(0)
            }
            None => 0,
        };
        self.versions.insert(stream.to_owned(), version);
        Ok(version)
    }

    /// The events an earlier call with this idempotency key committed, if any.
    fn earlier_result(&self, key: &str) -> Result<Option<Vec<StoredEvent>>, LedgerError> {
        let Some(value) = self.trees.idempotency.get(key.as_bytes())? else {
            return Ok(None);
        };
        let (first, count) = decode_idempotency(&value).ok_or_else(|| LedgerError::Corrupt {
            position: 0,
            reason: format!("idempotency entry {key:?} is malformed"),
        })?;
        let mut events = Vec::with_capacity(count as usize);
        for position in first..first + u64::from(count) {
            let stored = self.trees.log.get(position.to_be_bytes())?.ok_or_else(|| {
                LedgerError::Corrupt {
                    position,
                    reason: format!("idempotency key {key:?} names a missing event"),
                }
            })?;
            events.push(
                StoredEvent::decode_stored(&stored)
                    .map_err(|reason| LedgerError::Corrupt { position, reason })?,
            );
        }
        Ok(Some(events))
    }
}

/// One batch's writes to the three trees.
struct Writes {
    log: Vec<(IVec, IVec)>,
    streams: Vec<(IVec, IVec)>,
    idempotency: Vec<(IVec, IVec)>,
}

/// A thread that applies a batch to sled while the writer waits on `fdatasync`. The writer starts
/// the device wait itself and only then collects the applier's answer, which is usually ready by
/// then: no thread wake-up lies on the path from write to acknowledgement.
struct Applier {
    requests: Option<mpsc::Sender<Writes>>,
    done: mpsc::Receiver<Result<(), LedgerError>>,
    thread: Option<JoinHandle<()>>,
}

impl Applier {
    fn spawn(trees: Arc<Trees>) -> Result<Applier, LedgerError> {
        let (requests, inbox) = mpsc::channel::<Writes>();
        let (reply, done) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ledger-apply".into())
            .spawn(move || {
                for w in inbox {
                    let result = commit_batch(&trees, &w.log, &w.streams, &w.idempotency);
                    if reply.send(result).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Applier {
            requests: Some(requests),
            done,
            thread: Some(thread),
        })
    }

    fn start(&self, writes: Writes) {
        // If the thread is gone, `finish` reports it.
        if let Some(requests) = &self.requests {
            let _ = requests.send(writes);
        }
    }

    fn finish(&self) -> Result<(), LedgerError> {
        self.done.recv().unwrap_or_else(|_| {
            Err(LedgerError::Storage(
                "the sled applier thread is gone".into(),
            ))
        })
    }
}

impl Drop for Applier {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
