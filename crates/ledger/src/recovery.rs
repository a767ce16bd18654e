//! Recovery at open: bringing sled back in line with the write-ahead file after a crash.
//!
//! sled's own file is durable up to the last checkpoint, whose head position the `meta` tree
//! records under [`CHECKPOINTED`]. Everything after it is in the write-ahead file, and sled may
//! hold any part of it: batches are applied tree by tree, entry by entry (see
//! [`commit_batch`](crate::ledger::commit_batch)), and sled writes its buffers out when it likes.
//! So recovery keeps what sled holds up to the marker and rebuilds the rest from the file.
//!
//! The file is reused from its start after each checkpoint, not emptied (see `wal.rs`), so the
//! records since the last checkpoint may be followed by older ones. Those hold positions up to
//! the marker, all of which sled already holds durably: recovery passes over them.

use std::fs::File;

use sled::IVec;

use crate::error::LedgerError;
use crate::event::{Event, GENESIS};
use crate::ledger::{
    commit_batch, decode_idempotency, encode_idempotency, last_event, stream_key, u64_at, Head,
    Trees,
};
use crate::wal::{Wal, WalBatch};

/// `meta` key: the position up to which sled's own file was last made durable, written just before
/// each checkpoint's flush so it becomes durable with what it describes. Batches are applied to
/// sled tree by tree, not atomically (see [`commit_batch`]), so after a crash sled may hold part
/// of a batch past this point: recovery rebuilds everything past it from the write-ahead file.
const CHECKPOINTED: &[u8] = b"checkpointed";

/// A checkpoint: records `position` (the head, every batch up to it applied to sled) as
/// checkpointed, makes sled's own file durable, and starts the write-ahead file again. The
/// writer runs this every few MiB and at shutdown; recovery runs it after rebuilding.
pub(crate) fn checkpoint(
    trees: &Trees,
    data_file: &File,
    wal: &mut Wal,
    position: u64,
) -> Result<(), LedgerError> {
    // Written before the flush, so it is durable exactly when what it describes is.
    trees
        .meta
        .insert(CHECKPOINTED, &position.to_be_bytes()[..])?;
    // sled's flush ends in `sync_file_range`, which leaves the data in the device's write
    // cache (sled issue #1452): the `fdatasync` of its file is what makes it durable.
    trees.db.flush()?;
    data_file.sync_data()?;
    wal.restart();
    Ok(())
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
    let event = Event::decode_stored(&stored)
        .map_err(|reason| LedgerError::Corrupt { position, reason })?;
    Ok(Head {
        position,
        hash: event.hash,
    })
}

/// Brings sled back in line with the write-ahead file after a crash, then checkpoints.
///
/// Everything sled holds up to the checkpoint marker is durable and stands. Past it, the
/// write-ahead file is the record: each of its events is checked to chain on, and its log,
/// stream-index and idempotency entries are written again (the same bytes, so a part that sled
/// already holds is simply rewritten). Whatever sled holds past the file's last event never
/// reached the file's `fdatasync`, so was never acknowledged, and is taken out. Returns how many
/// events it rebuilt from the file.
pub(crate) fn recover(
    trees: &Trees,
    data_file: &File,
    wal: &mut Wal,
    batches: Vec<WalBatch>,
) -> Result<u64, LedgerError> {
    let sled_last = last_event(&trees.log)?.map_or(0, |e| e.position);
    let marker = marker(trees, sled_last)?;
    // Without a marker, batches were atomic in sled: its last event stands in for one.
    let checkpointed = marker.unwrap_or(sled_last);
    let mut head = head_at(trees, checkpointed)?;
    let mut rebuilt = 0;
    for batch in batches {
        let (mut log, mut streams, mut keys) = (Vec::new(), Vec::new(), Vec::new());
        for stored in batch.events {
            let event = Event::decode_stored(&stored).map_err(|reason| LedgerError::Corrupt {
                position: head.position + 1,
                reason: format!("in the write-ahead file: {reason}"),
            })?;
            let position = event.position;
            if position <= checkpointed {
                // A record from before the last checkpoint, which the file keeps until it is
                // overwritten: sled's own file holds it durably, and `verify` checks it there.
                continue;
            }
            let held = trees.log.get(position.to_be_bytes())?;
            if position != head.position + 1
                || event.prev_hash != head.hash
                || event.computed_hash() != event.hash
            {
                return Err(LedgerError::Corrupt {
                    position,
                    reason: "the write-ahead file does not chain onto the database".into(),
                });
            }
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
        for (key, first, count) in batch.keys {
            if first > checkpointed {
                keys.push((IVec::from(key), encode_idempotency(first, count)));
            }
        }
        if !log.is_empty() {
            commit_batch(trees, &log, &streams, &keys)?;
            rebuilt += log.len() as u64;
        }
    }
    if sled_last > head.position {
        let dropped = drop_after(trees, head.position, sled_last)?;
        tracing::warn!(
            dropped,
            kept = head.position,
            "recovery took out events the database held past the write-ahead file; \
             none of them had been acknowledged"
        );
    } else if rebuilt == 0 && marker.is_some() {
        // Nothing past the marker (a clean stop): sled already holds everything durably.
        wal.restart();
        return Ok(0);
    }
    // Also gives a new, imported or older folder its marker, which recovery trusts from now on.
    checkpoint(trees, data_file, wal, head.position)?;
    Ok(rebuilt)
}

/// Takes out events `after + 1 ..= last` with their index and idempotency entries; returns how
/// many were there. Only recovery calls this, for events that never became durable in the
/// write-ahead file.
fn drop_after(trees: &Trees, after: u64, last: u64) -> Result<u64, LedgerError> {
    let mut dropped = 0;
    for position in after + 1..=last {
        if let Some(stored) = trees.log.remove(position.to_be_bytes())? {
            if let Ok(event) = Event::decode_stored(&stored) {
                trees
                    .streams
                    .remove(stream_key(&event.stream, event.version))?;
            }
            dropped += 1;
        }
    }
    for item in trees.idempotency.iter() {
        let (key, value) = item?;
        if decode_idempotency(&value).is_some_and(|(first, _)| first > after) {
            trees.idempotency.remove(key)?;
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    //! Each test builds the data folder a crash could leave behind, by hand, from events a real
    //! ledger committed, then opens it.

    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::event::NewEvent;
    use crate::ledger::{Config, ExpectedVersion, Ledger};

    type Entry = (IVec, IVec);

    /// Five events committed by a real ledger: positions 1 to 5 over streams `s0` and `s1`, each
    /// appended with the idempotency key `key-<position>`.
    fn five_events() -> Vec<Event> {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(Config::new(dir.path())).unwrap();
        for n in 1..=5u64 {
            let event = NewEvent::new("SectionEdited", "tester", &json!({ "n": n })).unwrap();
            let key = format!("key-{n}");
            ledger
                .append_blocking(
                    &format!("s{}", n % 2),
                    ExpectedVersion::Any,
                    vec![event],
                    Some(&key),
                )
                .unwrap();
        }
        let events = ledger.read_all(1, 10).unwrap().events;
        ledger.shutdown();
        assert_eq!(events.len(), 5);
        events
    }

    fn log_entry(e: &Event) -> Entry {
        (
            IVec::from(&e.position.to_be_bytes()[..]),
            IVec::from(e.encode_stored()),
        )
    }

    fn index_entry(e: &Event) -> Entry {
        (
            IVec::from(stream_key(&e.stream, e.version)),
            IVec::from(&e.position.to_be_bytes()[..]),
        )
    }

    fn key_entry(e: &Event) -> Entry {
        (
            IVec::from(format!("key-{}", e.position).as_bytes()),
            encode_idempotency(e.position, 1),
        )
    }

    /// What a crash left behind.
    #[derive(Default)]
    struct Crash<'a> {
        /// Events sled's own file holds durably, all three entries each.
        checkpointed: &'a [Event],
        /// Whether the checkpoint marker is missing (a folder from before it existed).
        no_marker: bool,
        /// Log entries sled wrote out after the checkpoint, without their index entries.
        sled_log: &'a [Event],
        /// Stream-index entries sled wrote out after the checkpoint.
        sled_index: &'a [Event],
        /// Events in the write-ahead file, one record each, with their keys.
        wal: &'a [Event],
        /// Records after those, left from before the checkpoint (the file is reused, not
        /// emptied).
        stale: &'a [Event],
    }

    /// A data folder as `c` describes it.
    fn crash(c: Crash) -> tempfile::TempDir {
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path();
        let trees = Trees::open(&Config::new(dir)).unwrap();
        let all = |f: fn(&Event) -> Entry, events: &[Event]| events.iter().map(f).collect();
        let (log, index, keys): (Vec<_>, Vec<_>, Vec<_>) = (
            all(log_entry, c.checkpointed),
            all(index_entry, c.checkpointed),
            all(key_entry, c.checkpointed),
        );
        commit_batch(&trees, &log, &index, &keys).unwrap();
        if !c.no_marker {
            let at = c.checkpointed.last().map_or(0, |e| e.position);
            trees
                .meta
                .insert(CHECKPOINTED, &at.to_be_bytes()[..])
                .unwrap();
        }
        let (log, index): (Vec<_>, Vec<_>) =
            (all(log_entry, c.sled_log), all(index_entry, c.sled_index));
        commit_batch(&trees, &log, &index, &[]).unwrap();
        trees.db.flush().unwrap();
        drop(trees);
        let (mut wal, _) = Wal::open(dir).unwrap();
        for e in c.wal.iter().chain(c.stale) {
            assert!(wal.write(&[log_entry(e)], &[key_entry(e)]).is_ok());
        }
        wal.sync().unwrap();
        folder
    }

    /// Opens the folder, checks it against `events` (what it must hold, no more), and reopens it
    /// once more, which must find nothing to recover.
    fn open_and_check(dir: &Path, events: &[Event], rebuilt: u64) -> Ledger {
        let ledger = Ledger::open(Config::new(dir)).unwrap();
        assert_eq!(ledger.recovered_at_open(), rebuilt);
        let report = ledger.verify().unwrap();
        assert_eq!(report.events, events.len() as u64);
        assert_eq!(ledger.read_all(1, 10).unwrap().events, events);
        for e in events {
            let key = format!("key-{}", e.position);
            assert_eq!(
                ledger.idempotent_result(&key).unwrap(),
                Some(vec![e.clone()])
            );
        }
        ledger.shutdown();
        drop(ledger);
        let again = Ledger::open(Config::new(dir)).unwrap();
        assert_eq!(again.recovered_at_open(), 0);
        assert_eq!(again.verify().unwrap(), report);
        again
    }

    #[test]
    fn part_of_a_batch_in_sled_is_rebuilt_from_the_write_ahead_file() {
        // Given event 4's log entry written out by sled without its index entry or key,
        let events = five_events();
        let dir = crash(Crash {
            checkpointed: &events[..3],
            sled_log: &events[3..4],
            wal: &events[3..],
            ..Crash::default()
        });
        // when the ledger opens, then all five events are there with their index and keys.
        let ledger = open_and_check(dir.path(), &events, 2);
        assert_eq!(ledger.read_stream("s0", 1, 10).unwrap().len(), 2);
        assert_eq!(ledger.stream_version("s1").unwrap(), 3);
    }

    #[test]
    fn events_sled_holds_past_the_write_ahead_file_are_taken_out() {
        // Given sled holding events 4 and 5 (partly) while only event 4 reached the file,
        let events = five_events();
        let dir = crash(Crash {
            checkpointed: &events[..3],
            sled_log: &events[3..],
            sled_index: &events[4..],
            wal: &events[3..4],
            ..Crash::default()
        });
        // when the ledger opens, then event 5 is gone, index and all,
        let ledger = open_and_check(dir.path(), &events[..4], 1);
        assert_eq!(ledger.idempotent_result("key-5").unwrap(), None);
        assert_eq!(ledger.stream_version(&events[4].stream).unwrap(), 2);
        // and the next append takes position 5, chained onto event 4.
        let next = ledger
            .append_blocking(
                "s9",
                ExpectedVersion::Exact(0),
                vec![NewEvent::new("SectionEdited", "tester", &json!({})).unwrap()],
                None,
            )
            .unwrap();
        assert_eq!(next.events[0].position, 5);
        assert_eq!(next.events[0].prev_hash, events[3].hash);
    }

    #[test]
    fn a_crash_right_after_a_checkpoint_changes_nothing() {
        let events = five_events();
        let dir = crash(Crash {
            checkpointed: &events,
            wal: &events[2..],
            ..Crash::default()
        });
        open_and_check(dir.path(), &events, 0);
    }

    #[test]
    fn records_left_from_before_the_checkpoint_are_passed_over() {
        // Given events 4 and 5 written since the checkpoint, followed in the file by the
        // records of events 1 to 3 from before it,
        let events = five_events();
        let dir = crash(Crash {
            checkpointed: &events[..3],
            wal: &events[3..],
            stale: &events[..3],
            ..Crash::default()
        });
        // when the ledger opens, then it holds the five events once each.
        open_and_check(dir.path(), &events, 2);
    }

    #[test]
    fn a_folder_from_before_the_checkpoint_marker_recovers_as_it_did() {
        // Batches were atomic then: sled's last event stands in for the marker.
        let events = five_events();
        let dir = crash(Crash {
            checkpointed: &events[..2],
            no_marker: true,
            wal: &events[2..],
            ..Crash::default()
        });
        open_and_check(dir.path(), &events, 3);
    }

    #[test]
    fn a_write_ahead_event_that_differs_from_sled_is_refused() {
        // Given sled holding, at position 4, bytes other than the file's event 4,
        let events = five_events();
        let dir = crash(Crash {
            checkpointed: &events[..3],
            wal: &events[3..],
            ..Crash::default()
        });
        {
            let trees = Trees::open(&Config::new(dir.path())).unwrap();
            let (key, _) = log_entry(&events[3]);
            let (_, other) = log_entry(&events[4]);
            trees.log.insert(key, other).unwrap();
            trees.db.flush().unwrap();
        }
        // when the ledger opens, then it refuses, naming position 4.
        match Ledger::open(Config::new(dir.path())) {
            Err(LedgerError::Corrupt { position: 4, .. }) => {}
            other => panic!("expected Corrupt at 4, got {:?}", other.map(|_| ())),
        }
    }
}
