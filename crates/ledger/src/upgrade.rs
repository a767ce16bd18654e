//! The upgrade of a 0.1 data folder: sled's files in the data folder itself, with sled's default
//! 512 KiB segments (which write blobs; see `layout.rs`), to the current layout.
//!
//! 1. The 0.1 database is opened as it is, and recovered from the write-ahead file exactly as
//!    any open recovers (refusing, changing nothing, when the file cannot be trusted), which ends
//!    in a checkpoint: everything it holds is then in sled's files, durably.
//! 2. Every tree is copied, entry by entry, into a new database in `ledger.upgrading/`, with the
//!    current segment size; it is flushed and every file in it synced, and the two are compared
//!    (the same number of events, the same last event).
//! 3. `ledger.upgrading/` is renamed to `ledger/` and the data folder synced: the commit point.
//!    Before it, a crash leaves the 0.1 folder, which the next open upgrades again from the
//!    start (removing the half-made copy); after it, the copy is the database.
//! 4. The 0.1 files are removed (`db`, `conf`, `snap.*`, `blobs/`): the copy holds all of it. A
//!    crash before this finishes leaves some of them, which the next open removes.
//!
//! The write-ahead file and the other files of the data folder stay where they are.

use crate::durable::sync_dir;
use crate::error::LedgerError;
use crate::layout::{self, LEGACY_SEGMENT_BYTES, SEGMENT_BYTES, SLED_DIR, UPGRADING};
use crate::ledger::Config;
use crate::recovery::recover;
use crate::trees::{last_event, Trees};

/// Upgrades the 0.1 database in `config.path` (see the module's documentation). The caller holds
/// the folder's lock.
pub(crate) fn upgrade(config: &Config) -> Result<(), LedgerError> {
    let data = &config.path;
    tracing::info!(folder = %data.display(), "upgrading a councilflow 0.1 data folder");
    let old = Trees::open_at(data, LEGACY_SEGMENT_BYTES, config.cache_capacity_bytes)?;
    drop(recover(&old, data, config.accept_wal_damage)?);

    let upgrading = data.join(UPGRADING);
    let new = Trees::open_at(&upgrading, SEGMENT_BYTES, config.cache_capacity_bytes)?;
    let mut entries = 0u64;
    for name in old.db.tree_names() {
        let (from, to) = (old.db.open_tree(&name)?, new.db.open_tree(&name)?);
        for item in from.iter() {
            let (key, value) = item?;
            to.insert(key, value)?;
            entries += 1;
        }
    }
    new.db.flush()?;
    new.data_file.sync_data()?;
    layout::sync_files(
        &upgrading,
        &mut new.synced.lock().unwrap_or_else(|e| e.into_inner()),
    )?;
    let (was, is) = (last_event(&old.log)?, last_event(&new.log)?);
    if old.log.len() != new.log.len() || was != is {
        return Err(LedgerError::Storage(format!(
            "the upgraded copy in {} does not match the 0.1 database ({} events and {was:?} \
             against {} and {is:?}); the 0.1 folder was left as it was",
            upgrading.display(),
            old.log.len(),
            new.log.len()
        )));
    }
    drop(old);
    drop(new);

    std::fs::rename(&upgrading, data.join(SLED_DIR))?;
    sync_dir(data)?;
    layout::remove_legacy(data)?;
    sync_dir(data)?;
    tracing::info!(entries, "upgraded the data folder to the current layout");
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Each test builds a 0.1 folder by hand (sled's files in the data folder, 512 KiB segments)
    //! from events a real ledger committed, then opens it.

    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::event::{NewEvent, StoredEvent};
    use crate::layout::Found;
    use crate::ledger::{ExpectedVersion, Ledger};
    use crate::trees::{commit_batch, encode_idempotency, stream_key};
    use crate::wal::Wal;

    /// `n` events with 60 KiB payloads (large enough for 0.1's sled to write blobs), committed by
    /// a real ledger, each with the idempotency key `key-<position>`.
    fn events(n: u64) -> Vec<StoredEvent> {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(Config::new(dir.path())).unwrap();
        let pad = "x".repeat(60 * 1024);
        for i in 1..=n {
            let event = NewEvent::new("SectionEdited", "tester", &json!({ "i": i, "pad": pad }));
            let key = format!("key-{i}");
            ledger
                .append_blocking("s", ExpectedVersion::Any, vec![event.unwrap()], Some(&key))
                .unwrap();
        }
        let events = ledger.read_all(1, 1000).unwrap().events;
        ledger.shutdown();
        events
    }

    /// A 0.1 folder whose sled holds `events[..in_sled]` (checkpointed) and whose write-ahead
    /// file holds the rest, as a crash leaves it.
    fn legacy_folder(events: &[StoredEvent], in_sled: usize) -> tempfile::TempDir {
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path();
        {
            let trees = Trees::open_at(dir, LEGACY_SEGMENT_BYTES, 1 << 20).unwrap();
            let entries = |e: &StoredEvent| {
                let at = sled::IVec::from(&e.position.to_be_bytes()[..]);
                (
                    (at.clone(), sled::IVec::from(e.encode_stored())),
                    (sled::IVec::from(stream_key(&e.stream, e.version)), at),
                    (
                        sled::IVec::from(format!("key-{}", e.position).as_bytes()),
                        encode_idempotency(e.position, 1),
                    ),
                )
            };
            let (mut log, mut index, mut keys) = (Vec::new(), Vec::new(), Vec::new());
            for e in &events[..in_sled] {
                let (l, i, k) = entries(e);
                log.push(l);
                index.push(i);
                keys.push(k);
            }
            commit_batch(&trees, &log, &index, &keys).unwrap();
            trees
                .meta
                .insert(b"checkpointed", &(in_sled as u64).to_be_bytes()[..])
                .unwrap();
            trees.db.flush().unwrap();
            let mut wal = Wal::open(dir).unwrap();
            for e in &events[in_sled..] {
                let (l, _, k) = entries(e);
                assert!(wal.write(&[l], &[k]).is_ok());
            }
            wal.sync().unwrap();
        }
        folder
    }

    fn check_upgraded(dir: &Path, events: &[StoredEvent]) {
        let ledger = Ledger::open(Config::new(dir)).unwrap();
        assert_eq!(ledger.verify().unwrap().events, events.len() as u64);
        assert_eq!(ledger.read_all(1, 1000).unwrap().events, events);
        let last = format!("key-{}", events.len());
        assert!(ledger.idempotent_result(&last).unwrap().is_some());
        ledger.shutdown();
        drop(ledger);
        assert_eq!(layout::inspect(dir).unwrap(), Found::Current);
        for gone in ["db", "conf", "blobs"] {
            assert!(!dir.join(gone).exists(), "{gone} of 0.1 is still there");
        }
        let blobs = dir.join(SLED_DIR).join("blobs");
        assert_eq!(
            std::fs::read_dir(blobs).unwrap().count(),
            0,
            "no blob after the upgrade"
        );
    }

    #[test]
    fn a_0_1_folder_with_blobs_and_a_crash_to_recover_is_upgraded_whole() {
        // Given a 0.1 folder whose sled wrote blobs and whose last two events are only in the
        // write-ahead file,
        let events = events(30);
        let dir = legacy_folder(&events, 28);
        assert!(std::fs::read_dir(dir.path().join("blobs")).unwrap().count() > 0);
        // when it is opened, then it holds all thirty events in the current layout.
        check_upgraded(dir.path(), &events);
    }

    #[test]
    fn an_upgrade_interrupted_before_its_rename_starts_again_from_the_0_1_folder() {
        let events = events(5);
        let dir = legacy_folder(&events, 5);
        // A half-made copy, as a crash during step 2 leaves it.
        std::fs::create_dir(dir.path().join(UPGRADING)).unwrap();
        std::fs::write(dir.path().join(UPGRADING).join("db"), b"half").unwrap();
        check_upgraded(dir.path(), &events);
    }

    #[test]
    fn an_upgrade_interrupted_after_its_rename_finishes_removing_the_0_1_files() {
        let events = events(5);
        let dir = legacy_folder(&events, 5);
        check_upgraded(dir.path(), &events);
        // The 0.1 files back, as a crash during step 4 leaves them.
        std::fs::write(dir.path().join("db"), b"0.1").unwrap();
        std::fs::write(dir.path().join("snap.0000000000000001"), b"0.1").unwrap();
        check_upgraded(dir.path(), &events);
    }
}
