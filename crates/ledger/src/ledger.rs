//! The ledger handle: opening the sled database, appending through the group-commit writer, and
//! reading the log back.
//!
//! The trees and their layout are in `trees.rs`.
//!
//! Readers only ever see events up to the *durable head*: the last position whose batch has been
//! flushed and fdatasync'ed. sled makes a write visible in memory before it is on disk, and a batch
//! is written to the trees entry by entry; the durable head keeps an unacknowledged or half-applied
//! batch from reaching a projection, an integrator or a subscriber.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, RwLock};
use std::thread::JoinHandle;

use tokio::sync::{oneshot, watch};

use crate::durable;
use crate::error::LedgerError;
use crate::event::{check_name, Hash, NewEvent, StoredEvent, GENESIS};
use crate::layout::{self, Found};
use crate::lock::DataLock;
use crate::recovery::recover;
use crate::trees::{
    decode_idempotency, last_event, stream_key, stream_prefix, u64_at, Trees, IMPORT_IN_PROGRESS,
};
use crate::upgrade;
use crate::writer::{self, Request};

/// Largest number of events one `append` call may carry.
pub const MAX_EVENTS_PER_APPEND: usize = 1_000;

/// How the ledger is opened.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data folder (sled's database lives in it).
    pub path: PathBuf,
    /// sled's page cache, in bytes. sled's own default is 1 GiB, far more than a council server
    /// needs; the log is read mostly sequentially and projections live in memory elsewhere.
    pub cache_capacity_bytes: u64,
    /// Open even when the write-ahead file is missing, shorter than the last checkpoint recorded,
    /// or damaged before intact records, setting aside (not deleting) every event it does not
    /// prove. Off by default: the ledger then refuses to open and says why. An operator turns it
    /// on, knowingly, with `councilflow recover --accept-loss`.
    pub accept_wal_damage: bool,
}

impl Config {
    pub fn new(path: impl Into<PathBuf>) -> Config {
        Config {
            path: path.into(),
            cache_capacity_bytes: 64 * 1024 * 1024,
            accept_wal_damage: false,
        }
    }
}

/// What the caller expects the stream's current version to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version (no concurrency check).
    Any,
    /// The stream must be at exactly this version; `Exact(0)` means it must not exist yet.
    Exact(u64),
}

/// The result of an append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The committed events: newly written ones, or the first call's when `duplicate`.
    pub events: Vec<StoredEvent>,
    /// True when the idempotency key had been used before and nothing was written.
    pub duplicate: bool,
}

/// The last durable event: its position (0 for an empty log) and hash (genesis when empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub position: u64,
    pub hash: Hash,
}

/// One page of the global log.
#[derive(Clone, Debug)]
pub struct Page {
    pub events: Vec<StoredEvent>,
    /// The position to ask for next, when more durable events exist after this page.
    pub next: Option<u64>,
}

/// A handle on an open ledger. Cheap to clone; every clone shares one writer.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    trees: Arc<Trees>,
    path: PathBuf,
    /// `None` once shut down. A read lock per append is uncontended in practice; it lets
    /// `shutdown` take the sender out while other clones still exist.
    requests: RwLock<Option<mpsc::Sender<Request>>>,
    writer: std::sync::Mutex<Option<JoinHandle<()>>>,
    durable: Arc<Durable>,
    /// Events rebuilt from the write-ahead file at open.
    recovered: u64,
    /// The data folder's lock, released last (after the writer has let go of everything).
    _lock: DataLock,
}

/// The durable head, shared with the writer, which advances it after each fdatasync.
pub(crate) struct Durable {
    pub(crate) position: AtomicU64,
    pub(crate) head: watch::Sender<Head>,
    /// Set by `shutdown`, so subscribers that are caught up stop waiting.
    pub(crate) closed: AtomicBool,
}

impl Ledger {
    /// Opens (or creates) the ledger in `config.path` and starts its writer thread: takes the
    /// folder's lock, upgrades a 0.1 folder, and recovers what a crash left in the write-ahead
    /// file (see `recovery.rs` for when it refuses instead).
    pub fn open(config: Config) -> Result<Ledger, LedgerError> {
        durable::create_dir_all(&config.path)?;
        let lock = DataLock::acquire(&config.path)?;
        if layout::inspect(&config.path)? == Found::Legacy {
            upgrade::upgrade(&config)?;
        }
        let trees = Trees::open(&config)?;
        if trees.meta.get(IMPORT_IN_PROGRESS)?.is_some() {
            return Err(LedgerError::Storage(format!(
                "{} holds an unfinished import; delete the folder and import again",
                config.path.display()
            )));
        }
        let (wal, recovered) = recover(&trees, &config.path, config.accept_wal_damage)?;
        if recovered > 0 {
            tracing::info!(
                events = recovered,
                "recovered events from the write-ahead file that the database had not written out"
            );
        }

        let last = last_event(&trees.log)?;
        let head = match &last {
            Some(e) => {
                if e.computed_hash() != e.hash {
                    return Err(LedgerError::Corrupt {
                        position: e.position,
                        reason: "the last event's hash does not match its contents".into(),
                    });
                }
                Head {
                    position: e.position,
                    hash: e.hash,
                }
            }
            None => Head {
                position: 0,
                hash: GENESIS,
            },
        };
        let last_at_micros = last.map(|e| e.at.timestamp_micros()).unwrap_or(i64::MIN);

        let (head_tx, _) = watch::channel(head);
        let durable = Arc::new(Durable {
            position: AtomicU64::new(head.position),
            head: head_tx,
            closed: AtomicBool::new(false),
        });
        let trees = Arc::new(trees);
        let (tx, rx) = mpsc::channel();
        let writer = writer::spawn(
            trees.clone(),
            wal,
            durable.clone(),
            head,
            last_at_micros,
            rx,
        )?;
        Ok(Ledger {
            inner: Arc::new(Inner {
                trees,
                path: config.path,
                requests: RwLock::new(Some(tx)),
                writer: std::sync::Mutex::new(Some(writer)),
                durable,
                recovered,
                _lock: lock,
            }),
        })
    }

    /// The data folder.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Appends `events` to `stream` as one all-or-nothing batch, answering once they are durable.
    ///
    /// A wrong `expected` version is [`LedgerError::Conflict`] and writes nothing. A repeated
    /// `idempotency_key` returns the events the first call committed and writes nothing.
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        idempotency_key: Option<&str>,
    ) -> Result<Appended, LedgerError> {
        let rx = self.submit(stream, expected, events, idempotency_key)?;
        rx.await.map_err(|_| LedgerError::Closed)?
    }

    /// [`Ledger::append`] for threads outside an async runtime (CLI commands, the crash test).
    pub fn append_blocking(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        idempotency_key: Option<&str>,
    ) -> Result<Appended, LedgerError> {
        let rx = self.submit(stream, expected, events, idempotency_key)?;
        rx.blocking_recv().map_err(|_| LedgerError::Closed)?
    }

    fn submit(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        idempotency_key: Option<&str>,
    ) -> Result<oneshot::Receiver<Result<Appended, LedgerError>>, LedgerError> {
        check_name("stream", stream)?;
        if let Some(key) = idempotency_key {
            check_name("idempotency key", key)?;
        }
        if events.is_empty() {
            return Err(LedgerError::Invalid(
                "an append needs at least one event".into(),
            ));
        }
        if events.len() > MAX_EVENTS_PER_APPEND {
            return Err(LedgerError::Invalid(format!(
                "{} events in one append; at most {MAX_EVENTS_PER_APPEND}",
                events.len()
            )));
        }
        let (reply, rx) = oneshot::channel();
        let request = Request {
            stream: stream.to_owned(),
            expected,
            events,
            idempotency_key: idempotency_key.map(str::to_owned),
            reply,
        };
        let guard = self
            .inner
            .requests
            .read()
            .map_err(|_| LedgerError::Closed)?;
        guard
            .as_ref()
            .ok_or(LedgerError::Closed)?
            .send(request)
            .map_err(|_| LedgerError::Closed)?;
        Ok(rx)
    }

    /// How many events opening this ledger re-applied from the write-ahead file: those written
    /// since the last successful checkpoint, when the process before did not stop cleanly (0
    /// after a clean stop).
    pub fn recovered_at_open(&self) -> u64 {
        self.inner.recovered
    }

    /// The last durable event's position and hash.
    pub fn head(&self) -> Head {
        *self.inner.durable.head.borrow()
    }

    fn durable_position(&self) -> u64 {
        self.inner.durable.position.load(Ordering::Acquire)
    }

    /// The event at `position`, if it is durable.
    pub fn event(&self, position: u64) -> Result<Option<StoredEvent>, LedgerError> {
        if position == 0 || position > self.durable_position() {
            return Ok(None);
        }
        self.inner
            .trees
            .log
            .get(position.to_be_bytes())?
            .map(|v| decode(position, &v))
            .transpose()
    }

    /// Up to `limit` events from `from` (a position, from 1) onwards, in order.
    pub fn read_all(&self, from: u64, limit: usize) -> Result<Page, LedgerError> {
        let durable = self.durable_position();
        let from = from.max(1);
        let mut events = Vec::with_capacity(limit.min(4096));
        if from <= durable && limit > 0 {
            let range = from.to_be_bytes()..=durable.to_be_bytes();
            for item in self.inner.trees.log.range(range).take(limit) {
                let (key, value) = item?;
                events.push(decode(u64_at(&key, 0).unwrap_or(0), &value)?);
            }
        }
        let next = events
            .last()
            .map(|e| e.position + 1)
            .filter(|&next| next <= durable);
        Ok(Page { events, next })
    }

    /// The events of one stream from `from_version` (from 1), up to `limit`, in order.
    pub fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, LedgerError> {
        let durable = self.durable_position();
        let prefix = stream_prefix(stream);
        let start = stream_key(stream, from_version.max(1));
        let mut events = Vec::new();
        for item in self.inner.trees.streams.range(start..) {
            if events.len() >= limit {
                break;
            }
            let (key, value) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            let position = u64_at(&value, 0).ok_or_else(|| LedgerError::Corrupt {
                position: 0,
                reason: format!("stream index entry of {stream:?} is not a position"),
            })?;
            if position > durable {
                break;
            }
            let stored = self
                .inner
                .trees
                .log
                .get(position.to_be_bytes())?
                .ok_or_else(|| LedgerError::Corrupt {
                    position,
                    reason: format!("indexed for stream {stream:?} but missing from the log"),
                })?;
            events.push(decode(position, &stored)?);
        }
        Ok(events)
    }

    /// The current (durable) version of a stream; 0 when it has no events.
    pub fn stream_version(&self, stream: &str) -> Result<u64, LedgerError> {
        let durable = self.durable_position();
        for item in self
            .inner
            .trees
            .streams
            .scan_prefix(stream_prefix(stream))
            .rev()
        {
            let (key, value) = item?;
            if u64_at(&value, 0).unwrap_or(u64::MAX) <= durable {
                return Ok(u64_at(&key, key.len() - 8).unwrap_or(0));
            }
        }
        Ok(0)
    }

    /// A subscription delivering every durable event from `from` (a position, from 1) in order.
    /// A subscriber that falls behind reads from the log, so it never loses an event.
    pub fn subscribe(&self, from: u64) -> Subscription {
        Subscription {
            ledger: self.clone(),
            next: from.max(1),
            buffer: std::collections::VecDeque::new(),
            head: self.inner.durable.head.subscribe(),
        }
    }

    /// Stops accepting appends, lets the writer finish every request already queued, and waits
    /// for it. Appends after this fail with [`LedgerError::Closed`].
    pub fn shutdown(&self) {
        if let Ok(mut requests) = self.inner.requests.write() {
            requests.take();
        }
        let handle = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            // The writer thread never panics by design; if it did, there is nothing left to do.
            let _ = handle.join();
        }
        let _ = self.inner.trees.db.flush();
        self.inner.durable.closed.store(true, Ordering::Release);
        // Wake every subscriber so it sees the flag.
        self.inner.durable.head.send_modify(|_| {});
    }

    pub(crate) fn trees(&self) -> &Trees {
        &self.inner.trees
    }

    /// The events an earlier append with this idempotency key committed, if any (and durable).
    pub fn idempotent_result(&self, key: &str) -> Result<Option<Vec<StoredEvent>>, LedgerError> {
        let Some(value) = self.inner.trees.idempotency.get(key.as_bytes())? else {
            return Ok(None);
        };
        let (first, count) = decode_idempotency(&value).ok_or_else(|| LedgerError::Corrupt {
            position: 0,
            reason: format!("idempotency entry {key:?} is malformed"),
        })?;
        let mut events = Vec::with_capacity(count as usize);
        for position in first..first + u64::from(count) {
            match self.event(position)? {
                Some(event) => events.push(event),
                // Not durable yet: as far as readers know, the first call has not happened.
                None => return Ok(None),
            }
        }
        Ok(Some(events))
    }

    /// The idempotency keys in use: first position -> (key, event count).
    pub(crate) fn idempotency_index(&self) -> Result<HashMap<u64, (String, u32)>, LedgerError> {
        let mut out = HashMap::new();
        for item in self.inner.trees.idempotency.iter() {
            let (key, value) = item?;
            let (first, count) =
                decode_idempotency(&value).ok_or_else(|| LedgerError::Corrupt {
                    position: 0,
                    reason: "an idempotency entry is malformed".into(),
                })?;
            out.insert(first, (String::from_utf8_lossy(&key).into_owned(), count));
        }
        Ok(out)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut requests) = self.requests.write() {
            requests.take();
        }
        if let Some(handle) = self.writer.get_mut().ok().and_then(Option::take) {
            let _ = handle.join();
        }
    }
}

fn decode(position: u64, stored: &[u8]) -> Result<StoredEvent, LedgerError> {
    StoredEvent::decode_stored(stored).map_err(|reason| LedgerError::Corrupt { position, reason })
}

/// A live, gapless feed of committed events (see [`Ledger::subscribe`]).
pub struct Subscription {
    ledger: Ledger,
    next: u64,
    buffer: std::collections::VecDeque<StoredEvent>,
    head: watch::Receiver<Head>,
}

impl Subscription {
    /// How many events are read from the log at a time while catching up.
    const PAGE: usize = 512;

    /// The next committed event, waiting for one if the subscriber is caught up.
    /// Fails only when the ledger shuts down or the log cannot be read.
    pub async fn next(&mut self) -> Result<StoredEvent, LedgerError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                return Ok(event);
            }
            // Mark the current head as seen *before* reading, so a commit that lands between the
            // read and the wait below still wakes us.
            let head = self.head.borrow_and_update().position;
            if head >= self.next {
                let page = self.ledger.read_all(self.next, Self::PAGE)?;
                if let Some(last) = page.events.last() {
                    self.next = last.position + 1;
                }
                self.buffer.extend(page.events);
                continue;
            }
            if self.ledger.inner.durable.closed.load(Ordering::Acquire) {
                return Err(LedgerError::Closed);
            }
            self.head.changed().await.map_err(|_| LedgerError::Closed)?;
        }
    }

    /// The position the next event will have.
    pub fn position(&self) -> u64 {
        self.next - self.buffer.len() as u64
    }
}
