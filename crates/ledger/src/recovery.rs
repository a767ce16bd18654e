//! Recovery at open: bringing sled back in line with the write-ahead file after a crash or a
//! power cut.
//!
//! sled's own file is durable up to the last successful checkpoint. Everything after it is in the
//! write-ahead file's *current generation*: the records from the start of the file, each
//! following the one before, which a successful checkpoint ends by zeroing the first record.
//! sled may hold any part of it: batches are applied tree by tree, entry by entry (see
//! [`commit_batch`](crate::ledger::commit_batch)), and sled writes its buffers out when it likes.
//! So recovery re-applies the whole generation (see [`recover`]).
//!
//! The file is reused from its start after each checkpoint, not emptied (see `wal.rs`), so the
//! current generation may be followed by older records. Those hold positions up to the
//! checkpoint marker, all of which sled already holds durably: recovery passes over them.
//!
//! Recovery never deletes an event. It refuses to open (changing nothing) when the file cannot
//! be the evidence it should be: missing while the database holds events, shorter than the last
//! checkpoint recorded, or damaged before intact records of later positions (an acknowledged
//! write may be in the damaged part). Events sled holds past the last one the file proves were
//! never acknowledged (their record never reached its `fdatasync`), but they are *set aside*,
//! not removed: moved out of the chain to the `set-aside` tree, where `verify` reports them. An
//! operator who accepts a loss opens with [`Config::accept_wal_damage`](crate::Config): what the
//! file does not prove is then set aside the same way.

use std::path::Path;

use sled::IVec;

use crate::durable::sync_dir;
use crate::error::LedgerError;
use crate::event::{StoredEvent, GENESIS};
use crate::layout;
use crate::ledger::Head;
use crate::trees::{
    commit_batch, decode_idempotency, encode_idempotency, last_event, stream_key, u64_at, Trees,
};
use crate::wal::{Scan, Wal, FILE as WAL_FILE};

/// `meta` key: the position up to which sled's own file was last made durable, written just before
/// each checkpoint's flush so it becomes durable with what it describes. Batches are applied to
/// sled tree by tree, not atomically (see [`commit_batch`]), so after a crash sled may hold part
/// of a batch past this point: recovery rebuilds everything past it from the write-ahead file.
pub(crate) const CHECKPOINTED: &[u8] = b"checkpointed";

/// `meta` key: the write-ahead file's length at the last checkpoint. The file never shrinks, so
/// an open that finds it shorter knows it was cut back or replaced.
const WAL_LENGTH: &[u8] = b"wal-length";

/// A checkpoint: records `position` (the head, every batch up to it applied to sled) as
/// checkpointed, makes sled's own files durable, and starts the write-ahead file again. The
/// writer runs this every few MiB and at shutdown; recovery runs it after rebuilding.
///
/// An error leaves the write-ahead file as it was; the caller must then stop taking writes until
/// a restart (see `writer.rs`): after a failed `fsync` the kernel may have dropped the pages it
/// could not write, and a later `fsync` can report success for data that never reached the disk.
pub(crate) fn checkpoint(trees: &Trees, wal: &mut Wal, position: u64) -> Result<(), LedgerError> {
    // Written before the flush, so they are durable exactly when what they describe is.
    trees
        .meta
        .insert(CHECKPOINTED, &position.to_be_bytes()[..])?;
    trees
        .meta
        .insert(WAL_LENGTH, &wal.allocated().to_be_bytes()[..])?;
    // sled's flush ends in `sync_file_range`, which leaves the data in the device's write
    // cache (sled issue #1452): the `fdatasync` of its file is what makes it durable.
    trees.db.flush()?;
    #[cfg(test)]
    if trees
        .fail_next_checkpoint
        .swap(false, std::sync::atomic::Ordering::SeqCst)
    {
        return Err(LedgerError::Storage("fdatasync failed (injected)".into()));
    }
    trees.data_file.sync_data()?;
    // sled never writes blobs with the segment size the ledger gives it (layout.rs), but a
    // database it did write them to (0.1's, during its upgrade) needs them durable too.
    let mut synced = trees.synced.lock().unwrap_or_else(|e| e.into_inner());
    layout::sync_files(&trees.dir, &mut synced)?;
    wal.restart()
}

/// The checkpoint marker, if the folder has one (checked against sled's last position). A
/// folder without it was written by a version that applied each batch atomically, or was just
/// created or imported.
fn marker(trees: &Trees, sled_last: u64) -> Result<Option<u64>, LedgerError> {
    let Some(value) = trees.meta.get(CHECKPOINTED)? else {
        return Ok(None);
    };
    match u64_at(&value, 0) {
        Some(position) if position <= sled_last => Ok(Some(position)),
        other => Err(LedgerError::Corrupt {
            position: sled_last,
            reason: format!("the checkpoint marker says {other:?} but the log ends at {sled_last}"),
        }),
    }
}

/// The event at `position` as a chain head (genesis for 0).
fn head_at(trees: &Trees, position: u64) -> Result<Head, LedgerError> {
    if position == 0 {
        return Ok(Head {
            position: 0,
            hash: GENESIS,
        });
    }
    let stored = trees
        .log
        .get(position.to_be_bytes())?
        .ok_or_else(|| LedgerError::Corrupt {
            position,
            reason: "the last checkpointed event is missing".into(),
        })?;
    let event = StoredEvent::decode_stored(&stored)
        .map_err(|reason| LedgerError::Corrupt { position, reason })?;
    Ok(Head {
        position,
        hash: event.hash,
    })
}

/// A write-ahead record with its events decoded.
struct Decoded {
    offset: u64,
    events: Vec<(StoredEvent, Vec<u8>)>,
    keys: Vec<(Vec<u8>, u64, u32)>,
}

impl Decoded {
    fn first(&self) -> u64 {
        self.events.first().map_or(0, |(e, _)| e.position)
    }

    fn last(&self) -> u64 {
        self.events.last().map_or(0, |(e, _)| e.position)
    }
}

/// Splits the file's records into the *current generation*, the records written since the last
/// successful checkpoint (a run from the start of the file, each record's positions following
/// the one before), and the rest: records left from earlier generations, or found past a
/// damaged one.
fn generation(scan: Scan) -> Result<(Vec<Decoded>, Vec<Decoded>), LedgerError> {
    let (mut current, mut rest): (Vec<Decoded>, Vec<Decoded>) = (Vec::new(), Vec::new());
    for record in scan.records {
        let mut events = Vec::with_capacity(record.batch.events.len());
        for stored in record.batch.events {
            let event =
                StoredEvent::decode_stored(&stored).map_err(|reason| LedgerError::Corrupt {
                    position: 0,
                    reason: format!(
                        "{WAL_FILE}: the record at byte {} has an unreadable event: {reason}",
                        record.offset
                    ),
                })?;
            events.push((event, stored));
        }
        let decoded = Decoded {
            offset: record.offset,
            events,
            keys: record.batch.keys,
        };
        let follows = match current.last() {
            None => decoded.offset == 0,
            Some(before) => decoded.offset < scan.end && decoded.first() == before.last() + 1,
        };
        if follows && rest.is_empty() && !decoded.events.is_empty() {
            current.push(decoded);
        } else {
            rest.push(decoded);
        }
    }
    Ok((current, rest))
}

/// Why the write-ahead file cannot be trusted to hold everything since the last checkpoint, in
/// words naming the file; empty when it can. `proven` is the last position the current
/// generation or the checkpoint proves.
fn doubts(
    trees: &Trees,
    scan: (bool, u64, u64),
    rest: &[Decoded],
    sled_last: u64,
    checkpointed: u64,
    proven: u64,
) -> Vec<String> {
    let (existed, len, end) = scan;
    let mut doubts = Vec::new();
    if !existed && sled_last > 0 {
        doubts.push(format!(
            "{WAL_FILE} is missing, but the database holds {sled_last} events and the file \
             holds every acknowledged write since position {checkpointed}"
        ));
    }
    let recorded = trees
        .meta
        .get(WAL_LENGTH)
        .ok()
        .flatten()
        .and_then(|v| u64_at(&v, 0));
    if let Some(recorded) = recorded.filter(|&r| existed && len < r) {
        doubts.push(format!(
            "{WAL_FILE} is {len} bytes, but the last checkpoint recorded it at {recorded}: it \
             was cut back or replaced"
        ));
    }
    if let Some(record) = rest.iter().find(|r| r.last() > proven) {
        doubts.push(if record.offset >= end {
            format!(
                "{WAL_FILE} has a damaged record at byte {end}, followed by an intact record (at \
                 byte {}) of position {}, past the last checkpoint: an acknowledged write may be \
                 in the damaged part",
                record.offset,
                record.last()
            )
        } else {
            format!(
                "{WAL_FILE} has a record (at byte {}) of position {} that does not follow \
                 position {proven}: the records between them are missing",
                record.offset,
                record.first()
            )
        });
    }
    doubts
}

/// Brings sled back in line with the write-ahead file after a crash, then checkpoints; returns
/// the write-ahead file, opened (or created) for the writer, and how many events it re-applied.
///
/// The file's current generation (the records since the last successful checkpoint, see
/// [`generation`]) is re-applied whatever the checkpoint marker says: each event must chain on
/// from the event before the generation, which sled holds durably, and must equal what sled
/// holds at its position, if anything; its log, stream-index and idempotency entries are
/// written again (the same bytes). Re-applying even what the marker says is checkpointed is
/// what makes a failed checkpoint safe: after a failed `fsync` the marker may sit in the page
/// cache while the disk has older data, and rewriting the pages is the only way to get them to
/// the disk. Whatever sled holds past the last event proven (by the generation or the marker)
/// never reached the file's `fdatasync`, so was never acknowledged: it is set aside (see the
/// module's documentation).
pub(crate) fn recover(
    trees: &Trees,
    dir: &Path,
    accept_wal_damage: bool,
) -> Result<(Wal, u64), LedgerError> {
    let scan = Wal::scan(dir)?;
    let facts = (scan.existed, scan.len, scan.end);
    let sled_last = last_event(&trees.log)?.map_or(0, |e| e.position);
    let marker = marker(trees, sled_last)?;
    // Without a marker, batches were atomic in sled: its last event stands in for one.
    let checkpointed = marker.unwrap_or(sled_last);
    let (current, rest) = generation(scan)?;
    let proven = current.last().map_or(0, Decoded::last).max(checkpointed);
    let doubts = doubts(trees, facts, &rest, sled_last, checkpointed, proven);
    if !doubts.is_empty() {
        let what = doubts.join("; ");
        if !accept_wal_damage {
            return Err(LedgerError::Unproven(format!(
                "{what}. Nothing was changed. Put back the {WAL_FILE} that belongs with this \
                 folder (restore the whole folder from a backup taken while councilflow was \
                 stopped) and start again; or, to accept losing the writes the file no longer \
                 proves, run `councilflow recover --accept-loss`: the events the database holds \
                 past position {checkpointed} that the file does not prove are then set aside \
                 (not deleted), and `councilflow verify` lists them"
            )));
        }
        tracing::warn!(
            doubts = %what,
            "opening with --accept-loss: what the write-ahead file does not prove is set aside"
        );
    }
    let mut wal = Wal::open(dir)?;
    if !facts.0 {
        sync_dir(dir)?;
    }

    let base = current.first().map_or(checkpointed, |r| r.first() - 1);
    if base > checkpointed {
        return Err(LedgerError::Corrupt {
            position: base + 1,
            reason: format!(
                "{WAL_FILE} starts at position {} but the database is checkpointed only to \
                 {checkpointed}: the events between are in neither",
                base + 1
            ),
        });
    }
    let mut head = head_at(trees, base)?;
    let mut reapplied = 0;
    for record in current {
        let (mut log, mut streams, mut keys) = (Vec::new(), Vec::new(), Vec::new());
        for (event, stored) in record.events {
            let position = event.position;
            if position != head.position + 1
                || event.prev_hash != head.hash
                || event.computed_hash() != event.hash
            {
                return Err(LedgerError::Corrupt {
                    position,
                    reason: "the write-ahead file does not chain onto the database".into(),
                });
            }
            let held = trees.log.get(position.to_be_bytes())?;
            if held.is_some_and(|held| held != stored[..]) {
                return Err(LedgerError::Corrupt {
                    position,
                    reason: "the write-ahead file and the database disagree".into(),
                });
            }
            streams.push((
                IVec::from(stream_key(&event.stream, event.version)),
                IVec::from(&position.to_be_bytes()[..]),
            ));
            log.push((IVec::from(&position.to_be_bytes()[..]), IVec::from(stored)));
            head = Head {
                position,
                hash: event.hash,
            };
        }
        for (key, first, count) in record.keys {
            keys.push((IVec::from(key), encode_idempotency(first, count)));
        }
        commit_batch(trees, &log, &streams, &keys)?;
        reapplied += log.len() as u64;
    }
    if head.position < checkpointed {
        head = head_at(trees, checkpointed)?;
    }
    // With --accept-loss, intact records past a damaged one cannot join the chain (what came
    // between is gone) but are evidence: kept with what sled holds past the head.
    let stranded: Vec<Vec<u8>> = if accept_wal_damage {
        rest.into_iter()
            .flat_map(|record| record.events)
            .filter(|(event, _)| event.position > head.position)
            .map(|(_, stored)| stored)
            .collect()
    } else {
        Vec::new()
    };
    if sled_last > head.position || !stranded.is_empty() {
        let set_aside = set_aside(trees, head.position, sled_last, stranded)?;
        tracing::warn!(
            set_aside,
            kept = head.position,
            "recovery set aside events the write-ahead file does not prove: they are no longer \
             part of the log, and `councilflow verify` lists them"
        );
    } else if reapplied == 0 && marker.is_some() {
        // No current generation (a clean stop): sled already holds everything durably.
        return Ok((wal, 0));
    }
    // Also gives a new, imported or older folder its marker, which recovery trusts from now on.
    checkpoint(trees, &mut wal, head.position)?;
    Ok((wal, reapplied))
}

/// Moves events `after + 1 ..= last` out of the log into the `set-aside` tree (with `stranded`,
/// events only the write-ahead file held), and takes out their stream-index and idempotency
/// entries, which would otherwise point into the chain at events it no longer has. Returns how
/// many events were set aside. Keys in `set-aside` are the recovery's time (microseconds, so
/// two recoveries never collide) and the position.
fn set_aside(
    trees: &Trees,
    after: u64,
    last: u64,
    stranded: Vec<Vec<u8>>,
) -> Result<u64, LedgerError> {
    let stamp = chrono::Utc::now().timestamp_micros().max(0) as u64;
    let key = |position: u64| {
        let mut key = stamp.to_be_bytes().to_vec();
        key.extend_from_slice(&position.to_be_bytes());
        key
    };
    let mut count = 0;
    for position in after + 1..=last {
        if let Some(stored) = trees.log.get(position.to_be_bytes())? {
            trees.set_aside.insert(key(position), stored.clone())?;
            if let Ok(event) = StoredEvent::decode_stored(&stored) {
                trees
                    .streams
                    .remove(stream_key(&event.stream, event.version))?;
            }
            count += 1;
        }
    }
    for stored in stranded {
        let position = StoredEvent::decode_stored(&stored).map_or(0, |e| e.position);
        if trees.set_aside.insert(key(position), stored)?.is_none() {
            count += 1;
        }
    }
    // The set-aside copies are made durable before the originals leave the log.
    trees.db.flush()?;
    trees.data_file.sync_data()?;
    for position in after + 1..=last {
        trees.log.remove(position.to_be_bytes())?;
    }
    for item in trees.idempotency.iter() {
        let (key, value) = item?;
        if decode_idempotency(&value).is_some_and(|(first, _)| first > after) {
            trees.idempotency.remove(key)?;
        }
    }
    Ok(count)
}

#[cfg(test)]
#[path = "recovery_tests.rs"]
mod tests;
