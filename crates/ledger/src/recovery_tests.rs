//! Recovery's tests: each builds the data folder a crash (or an operator) could leave behind, by
//! hand, from events a real ledger committed, then opens it.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::event::NewEvent;
use crate::ledger::{Config, ExpectedVersion, Ledger};
use crate::wal::FILE as WAL_FILE;

type Entry = (IVec, IVec);

/// Five events committed by a real ledger: positions 1 to 5 over streams `s0` and `s1`, each
/// appended with the idempotency key `key-<position>`.
fn five_events() -> Vec<StoredEvent> {
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

fn log_entry(e: &StoredEvent) -> Entry {
    (
        IVec::from(&e.position.to_be_bytes()[..]),
        IVec::from(e.encode_stored()),
    )
}

fn index_entry(e: &StoredEvent) -> Entry {
    (
        IVec::from(stream_key(&e.stream, e.version)),
        IVec::from(&e.position.to_be_bytes()[..]),
    )
}

fn key_entry(e: &StoredEvent) -> Entry {
    (
        IVec::from(format!("key-{}", e.position).as_bytes()),
        encode_idempotency(e.position, 1),
    )
}

/// What a crash left behind.
#[derive(Default)]
struct Crash<'a> {
    /// Events sled's own file holds durably, all three entries each.
    checkpointed: &'a [StoredEvent],
    /// Whether the checkpoint marker is missing (a folder from before it existed).
    no_marker: bool,
    /// Log entries sled wrote out after the checkpoint, without their index entries.
    sled_log: &'a [StoredEvent],
    /// Stream-index entries sled wrote out after the checkpoint.
    sled_index: &'a [StoredEvent],
    /// Events in the write-ahead file, one record each, with their keys.
    wal: &'a [StoredEvent],
    /// Records after those, left from before the checkpoint (the file is reused, not
    /// emptied). Without `wal`, the first one's header is zeroed, as a checkpoint leaves it.
    stale: &'a [StoredEvent],
}

/// A data folder as `c` describes it.
fn crash(c: Crash) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let trees = Trees::open(&Config::new(dir)).unwrap();
    let all = |f: fn(&StoredEvent) -> Entry, events: &[StoredEvent]| events.iter().map(f).collect();
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
    let mut wal = Wal::open(dir).unwrap();
    for e in c.wal.iter().chain(c.stale) {
        assert!(wal.write(&[log_entry(e)], &[key_entry(e)]).is_ok());
    }
    wal.sync().unwrap();
    if c.wal.is_empty() {
        // As the checkpoint that followed them left the file.
        wal.restart().unwrap();
    }
    folder
}

/// Opens the folder, checks it against `events` (what it must hold, no more), and reopens it
/// once more, which must find nothing to recover.
fn open_and_check(dir: &Path, events: &[StoredEvent], rebuilt: u64) -> Ledger {
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
fn events_sled_holds_past_the_write_ahead_file_are_set_aside_not_deleted() {
    // Given sled holding events 4 and 5 (partly) while only event 4 reached the file,
    let events = five_events();
    let dir = crash(Crash {
        checkpointed: &events[..3],
        sled_log: &events[3..],
        sled_index: &events[4..],
        wal: &events[3..4],
        ..Crash::default()
    });
    // when the ledger opens, then event 5 has left the chain, index and all,
    let ledger = open_and_check(dir.path(), &events[..4], 1);
    assert_eq!(ledger.idempotent_result("key-5").unwrap(), None);
    assert_eq!(ledger.stream_version(&events[4].stream).unwrap(), 2);
    // but is kept, byte for byte, where verify reports it,
    let report = ledger.verify().unwrap();
    assert_eq!(report.set_aside.len(), 1);
    assert_eq!(report.set_aside[0].event, events[4]);
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
    assert_eq!(ledger.set_aside().unwrap().len(), 1);
}

/// What opening `dir` says when it refuses, checking that it changed nothing.
fn refusal(dir: &Path) -> String {
    let before = contents(dir);
    let message = match Ledger::open(Config::new(dir)) {
        Err(LedgerError::Unproven(message)) => message,
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    };
    assert!(contents(dir) == before, "a refused open changed the folder");
    message
}

/// Files with their digests, and every (tree, key, value) of the database.
type Contents = (Vec<(String, [u8; 32])>, Vec<(IVec, IVec, IVec)>);

/// What a folder holds: the SHA-256 of every file outside sled's folder (whose files sled
/// rewrites in its own form whenever it opens), and every entry of every tree in it.
fn contents(dir: &Path) -> Contents {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && !path.ends_with(crate::lock::LOCK_FILE) {
            let digest = Sha256::digest(std::fs::read(&path).unwrap()).into();
            files.push((path.display().to_string(), digest));
        }
    }
    files.sort();
    let trees = Trees::open(&Config::new(dir)).unwrap();
    let mut entries = Vec::new();
    for name in trees.db.tree_names() {
        for item in trees.db.open_tree(&name).unwrap().iter() {
            let (key, value) = item.unwrap();
            entries.push((name.clone(), key, value));
        }
    }
    (files, entries)
}

/// Opens `dir` as `councilflow recover --accept-loss` does.
fn open_accepting_loss(dir: &Path) -> Ledger {
    let mut config = Config::new(dir);
    config.accept_wal_damage = true;
    Ledger::open(config).unwrap()
}

#[test]
fn a_missing_write_ahead_file_is_refused_and_accepting_the_loss_sets_aside_what_it_held() {
    // Given events 4 and 5 in sled past the checkpoint and the file that proves them gone,
    let events = five_events();
    let dir = crash(Crash {
        checkpointed: &events[..3],
        sled_log: &events[3..],
        sled_index: &events[3..],
        wal: &events[3..],
        ..Crash::default()
    });
    std::fs::remove_file(dir.path().join(WAL_FILE)).unwrap();
    // when the ledger opens, then it refuses, naming the file and what to do,
    let message = refusal(dir.path());
    assert!(message.contains("ledger.wal is missing"), "{message}");
    assert!(message.contains("--accept-loss"), "{message}");
    // and once an operator accepts the loss, events 4 and 5 are set aside, not deleted.
    let ledger = open_accepting_loss(dir.path());
    let report = ledger.verify().unwrap();
    assert_eq!(report.events, 3);
    let kept: Vec<StoredEvent> = report.set_aside.into_iter().map(|s| s.event).collect();
    assert_eq!(kept, events[3..]);
    ledger.shutdown();
    drop(ledger);
    // The folder opens normally from then on.
    assert_eq!(
        Ledger::open(Config::new(dir.path()))
            .unwrap()
            .head()
            .position,
        3
    );
}

#[test]
fn a_write_ahead_file_shorter_than_the_checkpoint_recorded_is_refused() {
    // Given a ledger whose file a checkpoint recorded at its full length,
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = Ledger::open(Config::new(dir.path())).unwrap();
        for n in 0..3 {
            let event = NewEvent::new("SectionEdited", "tester", &json!({ "n": n })).unwrap();
            ledger
                .append_blocking("s", ExpectedVersion::Any, vec![event], None)
                .unwrap();
        }
        ledger.shutdown();
    }
    // when a backup tool leaves it empty,
    std::fs::File::create(dir.path().join(WAL_FILE)).unwrap();
    // then opening refuses and says how short it is.
    let message = refusal(dir.path());
    assert!(message.contains("ledger.wal is 0 bytes"), "{message}");
    assert!(message.contains("cut back or replaced"), "{message}");
}

#[test]
fn intact_records_after_a_damaged_one_are_refused_and_accepting_sets_them_aside() {
    // Given events 4 and 5 in the file past the checkpoint, and a flipped byte in event 4's
    // record,
    let events = five_events();
    let dir = crash(Crash {
        checkpointed: &events[..3],
        wal: &events[3..],
        ..Crash::default()
    });
    let path = dir.path().join(WAL_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[60] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    // when the ledger opens, then it refuses: event 4 may have been acknowledged,
    let message = refusal(dir.path());
    assert!(message.contains("damaged record at byte 0"), "{message}");
    assert!(message.contains("position 5"), "{message}");
    // and accepting the loss sets aside event 5, which no longer chains on.
    let ledger = open_accepting_loss(dir.path());
    let report = ledger.verify().unwrap();
    assert_eq!(report.events, 3);
    assert_eq!(report.set_aside.len(), 1);
    assert_eq!(report.set_aside[0].event, events[4]);
}

#[test]
fn a_checkpoint_whose_sync_fails_stops_writes_until_a_restart() {
    // Given a ledger with enough written for a checkpoint at shutdown,
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(Config::new(dir.path())).unwrap();
    let append = |ledger: &Ledger, n: u64| {
        let event = NewEvent::new("SectionEdited", "tester", &json!({ "n": n })).unwrap();
        ledger.append_blocking("s", ExpectedVersion::Any, vec![event], None)
    };
    // (the payload fills the file past a checkpoint's worth in one append)
    let big = "x".repeat(60 * 1024);
    let events: Vec<NewEvent> = (0..140)
        .map(|_| NewEvent::new("Big", "tester", &json!({ "pad": big })).unwrap())
        .collect();
    ledger
        .trees()
        .fail_next_checkpoint
        .store(true, std::sync::atomic::Ordering::SeqCst);
    // when the checkpoint after an append fails,
    let first = ledger.append_blocking("big", ExpectedVersion::Any, events, None);
    assert!(
        first.is_ok(),
        "the append itself was durable and is answered"
    );
    // then every later append is refused, saying to restart,
    match append(&ledger, 1) {
        Err(LedgerError::Storage(message)) => {
            assert!(message.contains("restart"), "{message}")
        }
        other => panic!("expected writes to stop, got {other:?}"),
    }
    ledger.shutdown();
    drop(ledger);
    // and after the restart everything acknowledged is there and writes go on.
    let ledger = Ledger::open(Config::new(dir.path())).unwrap();
    assert_eq!(ledger.recovered_at_open(), 140);
    assert_eq!(ledger.verify().unwrap().events, 140);
    append(&ledger, 2).unwrap();
}

#[test]
fn a_crash_right_after_a_checkpoint_changes_nothing() {
    let events = five_events();
    let dir = crash(Crash {
        checkpointed: &events,
        stale: &events[2..],
        ..Crash::default()
    });
    open_and_check(dir.path(), &events, 0);
}

#[test]
fn a_generation_whose_checkpoint_did_not_finish_is_re_applied_though_the_marker_covers_it() {
    // Given a marker at 5 but a write-ahead file whose generation 3..5 was never closed (the
    // checkpoint's sync failed, so sled's file may not hold what its page cache says),
    let events = five_events();
    let dir = crash(Crash {
        checkpointed: &events,
        wal: &events[2..],
        ..Crash::default()
    });
    // when the ledger opens, then those three are written to sled again and checkpointed.
    open_and_check(dir.path(), &events, 3);
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
