//! Behaviour of the ledger on a real sled database in a temporary folder.

use std::time::Duration;

use councilflow_ledger::{
    verify_export, Config, ExpectedVersion, Ledger, LedgerError, NewEvent, StoredEvent, GENESIS,
};
use serde_json::json;

fn event(kind: &str, n: u64) -> NewEvent {
    NewEvent::new(
        kind,
        "tester",
        &json!({ "n": n, "text": "Barriers: single-year settlements" }),
    )
    .unwrap()
}

fn open(dir: &tempfile::TempDir) -> Ledger {
    Ledger::open(Config::new(dir.path())).unwrap()
}

#[test]
fn the_first_event_chains_from_genesis_and_each_next_from_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    let a = ledger
        .append_blocking(
            "plan-1",
            ExpectedVersion::Exact(0),
            vec![event("A", 1), event("B", 2)],
            None,
        )
        .unwrap();
    let b = ledger
        .append_blocking(
            "plan-2",
            ExpectedVersion::Exact(0),
            vec![event("C", 3)],
            None,
        )
        .unwrap();
    let all: Vec<StoredEvent> = a.events.into_iter().chain(b.events).collect();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(all.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2, 1]);
    assert_eq!(all[0].prev_hash, GENESIS);
    assert_eq!(all[1].prev_hash, all[0].hash);
    assert_eq!(all[2].prev_hash, all[1].hash);
    assert!(all.iter().all(|e| e.computed_hash() == e.hash));
    assert!(all
        .windows(2)
        .all(|w| w[0].at <= w[1].at && w[0].id < w[1].id));
    assert_eq!(ledger.head().position, 3);
    assert_eq!(ledger.head().hash, all[2].hash);
    assert_eq!(all[0].payload_json()["n"], 1);
}

#[test]
fn a_wrong_expected_version_is_a_conflict_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    ledger
        .append_blocking(
            "plan-1",
            ExpectedVersion::Exact(0),
            vec![event("A", 1)],
            None,
        )
        .unwrap();
    let head = ledger.head();
    let err = ledger
        .append_blocking(
            "plan-1",
            ExpectedVersion::Exact(0),
            vec![event("B", 2), event("C", 3)],
            Some("k1"),
        )
        .unwrap_err();
    assert_eq!(
        err,
        LedgerError::Conflict {
            stream: "plan-1".into(),
            expected: 0,
            actual: 1
        }
    );
    assert_eq!(ledger.head(), head);
    assert_eq!(ledger.read_stream("plan-1", 1, 100).unwrap().len(), 1);
    // The refused call did not use up its idempotency key.
    let ok = ledger
        .append_blocking(
            "plan-1",
            ExpectedVersion::Exact(1),
            vec![event("B", 2)],
            Some("k1"),
        )
        .unwrap();
    assert!(!ok.duplicate);
    assert_eq!(ok.events[0].version, 2);
}

#[test]
fn a_repeated_idempotency_key_returns_the_first_result_and_writes_nothing_also_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let ledger = open(&dir);
        let first = ledger
            .append_blocking(
                "plan-1",
                ExpectedVersion::Exact(0),
                vec![event("A", 1), event("B", 2)],
                Some("start-plan-1"),
            )
            .unwrap();
        let again = ledger
            .append_blocking(
                "plan-1",
                ExpectedVersion::Exact(0),
                vec![event("A", 1), event("B", 2)],
                Some("start-plan-1"),
            )
            .unwrap();
        assert!(again.duplicate);
        assert_eq!(again.events, first.events);
        assert_eq!(ledger.head().position, 2);
        ledger.shutdown();
        first
    };
    let ledger = open(&dir);
    let again = ledger
        .append_blocking(
            "plan-1",
            ExpectedVersion::Any,
            vec![event("X", 9)],
            Some("start-plan-1"),
        )
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, first.events);
    assert_eq!(ledger.head().position, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_one_idempotency_key_write_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    let calls: Vec<_> = (0..32)
        .map(|_| {
            let ledger = ledger.clone();
            tokio::spawn(async move {
                ledger
                    .append("s", ExpectedVersion::Any, vec![event("A", 1)], Some("same"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut written = 0;
    let mut positions = std::collections::BTreeSet::new();
    for call in calls {
        let result = call.await.unwrap();
        written += usize::from(!result.duplicate);
        positions.insert(result.events[0].position);
    }
    assert_eq!(written, 1);
    assert_eq!(positions.len(), 1);
    assert_eq!(ledger.head().position, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_get_gapless_positions_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    let tasks: Vec<_> = (0..16)
        .map(|w| {
            let ledger = ledger.clone();
            tokio::spawn(async move {
                for n in 0..25 {
                    ledger
                        .append(
                            &format!("s{}", w % 4),
                            ExpectedVersion::Any,
                            vec![event("A", n)],
                            None,
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let report = ledger.verify().unwrap();
    assert_eq!(report.events, 400);
    assert_eq!(report.streams, 4);
    for s in 0..4 {
        let versions: Vec<u64> = ledger
            .read_stream(&format!("s{s}"), 1, 1000)
            .unwrap()
            .iter()
            .map(|e| e.version)
            .collect();
        assert_eq!(versions, (1..=100).collect::<Vec<_>>());
        assert_eq!(ledger.stream_version(&format!("s{s}")).unwrap(), 100);
    }
}

#[test]
fn the_whole_log_reads_back_in_pages_and_a_stream_from_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    for n in 0..25 {
        let stream = if n % 2 == 0 { "even" } else { "odd" };
        ledger
            .append_blocking(stream, ExpectedVersion::Any, vec![event("A", n)], None)
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut from = 1;
    loop {
        let page = ledger.read_all(from, 10).unwrap();
        assert!(page.events.len() <= 10);
        seen.extend(page.events.iter().map(|e| e.position));
        match page.next {
            Some(next) => from = next,
            None => break,
        }
    }
    assert_eq!(seen, (1..=25).collect::<Vec<_>>());
    assert!(ledger.read_all(26, 10).unwrap().events.is_empty());

    let odd = ledger.read_stream("odd", 5, 3).unwrap();
    assert_eq!(odd.iter().map(|e| e.version).collect::<Vec<_>>(), [5, 6, 7]);
    assert!(odd.iter().all(|e| e.stream == "odd"));
    assert_eq!(ledger.read_stream("none", 1, 10).unwrap(), vec![]);
    assert_eq!(ledger.event(13).unwrap().unwrap().position, 13);
    assert_eq!(ledger.event(99).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_catches_up_from_the_log_and_misses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    for n in 0..700 {
        ledger
            .append("before", ExpectedVersion::Any, vec![event("A", n)], None)
            .await
            .unwrap();
    }
    let mut subscription = ledger.subscribe(1);
    let writer = {
        let ledger = ledger.clone();
        tokio::spawn(async move {
            for n in 0..300 {
                ledger
                    .append("during", ExpectedVersion::Any, vec![event("B", n)], None)
                    .await
                    .unwrap();
            }
        })
    };
    let mut positions = Vec::new();
    while positions.len() < 1000 {
        let e = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await
            .expect("the subscription stalled")
            .unwrap();
        if positions.len() % 100 == 0 {
            // Slow consumer: the writer runs ahead meanwhile.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        positions.push(e.position);
    }
    writer.await.unwrap();
    assert_eq!(positions, (1..=1000).collect::<Vec<_>>());
    // Caught up: the next event arrives live.
    ledger
        .append("after", ExpectedVersion::Any, vec![event("C", 0)], None)
        .await
        .unwrap();
    let live = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.position, 1001);
    ledger.shutdown();
    assert_eq!(subscription.next().await, Err(LedgerError::Closed));
}

#[test]
fn a_second_process_on_the_same_folder_is_told_the_folder_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let _ledger = open(&dir);
    let err = Ledger::open(Config::new(dir.path())).err().unwrap();
    assert!(err.to_string().contains("in use"), "{err}");
}

#[test]
fn bad_appends_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    assert!(matches!(
        ledger.append_blocking("s", ExpectedVersion::Any, vec![], None),
        Err(LedgerError::Invalid(_))
    ));
    assert!(matches!(
        ledger.append_blocking(
            "bad\0stream",
            ExpectedVersion::Any,
            vec![event("A", 1)],
            None
        ),
        Err(LedgerError::Invalid(_))
    ));
    assert!(matches!(
        ledger.append_blocking("s", ExpectedVersion::Any, vec![event("A", 1)], Some("")),
        Err(LedgerError::Invalid(_))
    ));
    assert_eq!(ledger.head().position, 0);
}

fn fill(ledger: &Ledger, n: u64) {
    for i in 0..n {
        let key = format!("key-{i}");
        ledger
            .append_blocking(
                &format!("s{}", i % 3),
                ExpectedVersion::Any,
                vec![event("A", i), event("B", i)],
                (i % 2 == 0).then_some(key.as_str()),
            )
            .unwrap();
    }
}

/// Opens the ledger's sled database directly. sled can hold its file lock a moment after the
/// last handle is dropped (its background writes finish first), so wait for it, up to 5 s.
fn sled_open(path: &std::path::Path) -> sled::Db {
    let config = sled::Config::new()
        .path(path.join(councilflow_ledger::SLED_DIR))
        .segment_size(councilflow_ledger::SLED_SEGMENT_BYTES);
    for _ in 0..250 {
        match config.open() {
            Ok(db) => return db,
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("open sled: {e}"),
        }
    }
    panic!("sled's lock on {} was never released", path.display());
}

#[test]
fn changing_one_byte_of_one_stored_event_is_named_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = open(&dir);
        fill(&ledger, 20);
        assert_eq!(ledger.verify().unwrap().events, 40);
        ledger.shutdown();
    }
    {
        // Reach under the ledger, as a disk fault or a tamperer would.
        let db = sled_open(dir.path());
        let log = db.open_tree("log").unwrap();
        let key = 17u64.to_be_bytes();
        let mut value = log.get(key).unwrap().unwrap().to_vec();
        let last = value.len() - 3; // inside the payload text
        value[last] ^= 0x20;
        log.insert(key, value).unwrap();
        db.flush().unwrap();
    }
    let ledger = open(&dir);
    match ledger.verify() {
        Err(LedgerError::Corrupt { position, .. }) => assert_eq!(position, 17),
        other => panic!("verify should name position 17, got {other:?}"),
    }
}

#[test]
fn a_missing_stream_index_entry_is_named_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = open(&dir);
        fill(&ledger, 5);
        ledger.shutdown();
    }
    {
        let db = sled_open(dir.path());
        let streams = db.open_tree("streams").unwrap();
        let mut key = b"s1\0".to_vec();
        key.extend_from_slice(&2u64.to_be_bytes());
        assert!(streams.remove(key).unwrap().is_some());
        db.flush().unwrap();
    }
    let ledger = open(&dir);
    let err = ledger.verify().unwrap_err();
    // s1 version 2 is the second event of the second append to s1: i = 1 gave s1 positions 3, 4.
    assert!(
        matches!(err, LedgerError::Corrupt { position: 4, .. }),
        "{err}"
    );
}

#[test]
fn an_export_verifies_on_its_own_and_imports_into_a_fresh_folder() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    fill(&ledger, 30);
    let mut export = Vec::new();
    let report = ledger.export(&mut export).unwrap();
    assert_eq!(report.events, 60);
    assert_eq!(verify_export(&export[..]).unwrap(), report);

    let target = tempfile::tempdir().unwrap();
    let imported_path = target.path().join("restored");
    let imported = Ledger::import(Config::new(&imported_path), &export[..]).unwrap();
    assert_eq!(imported, report);
    let restored = Ledger::open(Config::new(&imported_path)).unwrap();
    assert_eq!(restored.verify().unwrap(), report);
    assert_eq!(
        restored.read_all(1, 100).unwrap().events,
        ledger.read_all(1, 100).unwrap().events
    );
    // Idempotency survives the move.
    let again = restored
        .append_blocking(
            "s0",
            ExpectedVersion::Any,
            vec![event("Z", 0)],
            Some("key-4"),
        )
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events[0].position, 9);
}

#[test]
fn a_truncated_or_altered_export_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    fill(&ledger, 5);
    let mut export = Vec::new();
    ledger.export(&mut export).unwrap();
    let text = String::from_utf8(export).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    let truncated = lines[..lines.len() - 1].join("\n");
    let err = verify_export(truncated.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");

    let altered = text.replacen("single-year", "multi-year", 1);
    match verify_export(altered.as_bytes()).unwrap_err() {
        LedgerError::BadExport { line, reason } => {
            assert_eq!(line, 2, "{reason}");
            assert!(reason.contains("position 1"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    let target = tempfile::tempdir().unwrap();
    let path = target.path().join("restored");
    assert!(Ledger::import(Config::new(&path), altered.as_bytes()).is_err());
    // The half-imported folder refuses to open rather than serve a partial log.
    let err = Ledger::open(Config::new(&path)).err().unwrap();
    assert!(err.to_string().contains("unfinished import"), "{err}");
}

#[test]
fn import_refuses_a_folder_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    fill(&ledger, 2);
    let mut export = Vec::new();
    ledger.export(&mut export).unwrap();
    ledger.shutdown();
    assert!(matches!(
        Ledger::import(Config::new(dir.path()), &export[..]),
        Err(LedgerError::Invalid(_))
    ));
}

#[test]
fn a_record_torn_by_a_crash_is_dropped_and_the_log_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = open(&dir);
        fill(&ledger, 5);
        ledger.shutdown();
    }
    // The checkpoint at shutdown zeroed the first record's header, and the next record goes at
    // the start of the file. A crash in the middle of writing it leaves a partial record there,
    // in front of older ones.
    let wal = dir.path().join("ledger.wal");
    let mut bytes = std::fs::read(&wal).unwrap();
    let length = bytes.len();
    assert_eq!(
        councilflow_ledger::fuzzing::decode_wal(&bytes),
        0,
        "the checkpoint closed the generation"
    );
    assert!(
        bytes[64..].iter().any(|&b| b != 0),
        "records from before the checkpoint"
    );
    bytes[..11].copy_from_slice(&[0x43, 0x46, 0x57, 0x41, 0, 0, 1, 0, 9, 9, 9]);
    std::fs::write(&wal, bytes).unwrap();
    let ledger = open(&dir);
    assert_eq!(ledger.verify().unwrap().events, 10);
    let next = ledger
        .append_blocking("s0", ExpectedVersion::Any, vec![event("A", 1)], None)
        .unwrap();
    assert_eq!(next.events[0].position, 11);
    // The new record took the torn one's place; the file kept its length.
    let bytes = std::fs::read(&wal).unwrap();
    assert_eq!(bytes.len(), length);
    assert!(councilflow_ledger::fuzzing::decode_wal(&bytes) > 0);
}

#[test]
fn the_largest_payloads_never_make_sled_write_a_blob() {
    // Given the largest payload the ledger accepts, appended over and over to one stream and to
    // several (full leaves, splits, and nodes rewritten many times),
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(&dir);
    let text = "x".repeat(councilflow_ledger::MAX_PAYLOAD_BYTES - 16);
    let payload = serde_json::json!({ "t": text });
    assert!(
        serde_json::to_string(&payload).unwrap().len() <= councilflow_ledger::MAX_PAYLOAD_BYTES
    );
    let mut values = Vec::new();
    for i in 0..120 {
        let event = NewEvent::new("Big", "tester", &payload).unwrap();
        let appended = ledger
            .append_blocking(
                &format!("s{}", i % 3),
                ExpectedVersion::Any,
                vec![event],
                None,
            )
            .unwrap();
        values.push(appended.events[0].payload.clone().into_bytes());
    }
    ledger.shutdown();
    drop(ledger);
    // when sled has written it all out, then its blob folder is empty,
    let blobs = dir.path().join(councilflow_ledger::SLED_DIR).join("blobs");
    assert_eq!(std::fs::read_dir(&blobs).unwrap().count(), 0);
    // where sled's default segments (0.1's) would have written blobs for the same entries.
    let other = tempfile::tempdir().unwrap();
    let db = sled::Config::new().path(other.path()).open().unwrap();
    let log = db.open_tree("log").unwrap();
    for (i, value) in values.into_iter().enumerate() {
        log.insert((i as u64).to_be_bytes(), value).unwrap();
    }
    db.flush().unwrap();
    assert!(
        std::fs::read_dir(other.path().join("blobs"))
            .unwrap()
            .count()
            > 0
    );
}
