//! The five sled trees of a ledger's database and how their keys and values are laid out; the
//! reads and writes every part of the crate shares.
//!
//! - `log`: position (u64 big-endian) -> stored event (`prev_hash ‖ hash ‖ canonical bytes`);
//! - `streams`: stream name ‖ 0x00 ‖ version (u64 big-endian) -> position;
//! - `idempotency`: key -> first position (u64 BE) ‖ event count (u32 BE);
//! - `meta`: the checkpoint marker, the write-ahead file's length, an unfinished import;
//! - `set-aside`: recovery time ‖ position -> an event recovery took out of the chain.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
#[cfg(test)]
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use sled::{IVec, Tree};

use crate::durable;
use crate::error::LedgerError;
use crate::event::StoredEvent;
use crate::layout::{self, Found};
use crate::ledger::Config;

pub(crate) struct Trees {
    pub(crate) db: sled::Db,
    pub(crate) log: Tree,
    pub(crate) streams: Tree,
    pub(crate) idempotency: Tree,
    pub(crate) meta: Tree,
    /// Events recovery took out of the chain because the write-ahead file does not prove them
    /// (see `recovery.rs`): recovery time (µs) ‖ position -> stored event.
    pub(crate) set_aside: Tree,
    /// sled's folder.
    pub(crate) dir: PathBuf,
    /// sled's `db` file, opened a second time so a checkpoint can call a real `fdatasync` after
    /// sled's own flush (which only uses `sync_file_range` on Linux and so leaves the data in the
    /// device's write cache; sled issue #1452).
    pub(crate) data_file: File,
    /// sled's other files already synced (see [`layout::sync_files`]).
    pub(crate) synced: Mutex<HashSet<OsString>>,
    /// Fails the next checkpoint's sync, once, for the tests of what a failed sync does.
    #[cfg(test)]
    pub(crate) fail_next_checkpoint: AtomicBool,
}

impl Trees {
    /// Opens the data folder's database, making the folder and an empty database first if it
    /// has none. A 0.1 folder is refused here: [`Ledger::open`] upgrades it.
    pub(crate) fn open(config: &Config) -> Result<Trees, LedgerError> {
        durable::create_dir_all(&config.path)?;
        match layout::inspect(&config.path)? {
            Found::Fresh => layout::create(&config.path, config.cache_capacity_bytes)?,
            Found::Current => {}
            Found::Legacy => {
                return Err(LedgerError::Storage(format!(
                    "{} holds a councilflow 0.1 database, which opening the ledger upgrades",
                    config.path.display()
                )))
            }
        }
        Trees::open_at(
            &config.path.join(layout::SLED_DIR),
            layout::SEGMENT_BYTES,
            config.cache_capacity_bytes,
        )
    }

    /// Opens sled in `dir` and makes its `conf` and snapshot files durable before anything is
    /// written through it.
    pub(crate) fn open_at(
        dir: &Path,
        segment_bytes: usize,
        cache_capacity_bytes: u64,
    ) -> Result<Trees, LedgerError> {
        let db = layout::open_sled(dir, segment_bytes, cache_capacity_bytes)?;
        let mut synced = HashSet::new();
        layout::sync_files(dir, &mut synced)?;
        Ok(Trees {
            log: db.open_tree("log")?,
            streams: db.open_tree("streams")?,
            idempotency: db.open_tree("idempotency")?,
            meta: db.open_tree("meta")?,
            set_aside: db.open_tree("set-aside")?,
            data_file: File::open(dir.join("db"))?,
            dir: dir.to_owned(),
            synced: Mutex::new(synced),
            #[cfg(test)]
            fail_next_checkpoint: AtomicBool::new(false),
            db,
        })
    }
}

/// Key of the stream index: the stream name, a NUL separator (names never hold one), the version.
pub(crate) fn stream_key(stream: &str, version: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.len() + 9);
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

pub(crate) fn stream_prefix(stream: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.len() + 1);
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key
}

pub(crate) fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes
        .get(at..at + 8)
        .map(|b| u64::from_be_bytes(b.try_into().expect("slice of 8")))
}

/// The marker an unfinished import leaves, so a half-imported folder is never served.
pub(crate) const IMPORT_IN_PROGRESS: &[u8] = b"import-in-progress";

/// The last stored event, if any.
pub(crate) fn last_event(log: &Tree) -> Result<Option<StoredEvent>, LedgerError> {
    match log.last()? {
        None => Ok(None),
        Some((key, value)) => {
            let position = u64_at(&key, 0).unwrap_or(0);
            StoredEvent::decode_stored(&value)
                .map(Some)
                .map_err(|reason| LedgerError::Corrupt { position, reason })
        }
    }
}

pub(crate) fn encode_idempotency(first: u64, count: u32) -> IVec {
    let mut v = Vec::with_capacity(12);
    v.extend_from_slice(&first.to_be_bytes());
    v.extend_from_slice(&count.to_be_bytes());
    IVec::from(v)
}

pub(crate) fn decode_idempotency(value: &[u8]) -> Option<(u64, u32)> {
    let first = u64_at(value, 0)?;
    let count = u32::from_be_bytes(value.get(8..12)?.try_into().ok()?);
    Some((first, count))
}

/// Writes one batch to the three trees, entry by entry.
///
/// Not a sled transaction, on purpose: atomicity and durability come from the write-ahead file,
/// and readers never look past the durable head, which moves only once the whole batch is in. A
/// sled transaction (like `apply_batch`) rolls sled's I/O buffer twice to pin its log, and each
/// roll hands a write to sled's thread pool, waking every one of its threads: measured on this
/// machine, that was 25-30 % of a single writer's rate (`ledger-bench`, see
/// docs/decisions/ledger-apply-without-transactions.md). A crash can leave part of a batch in
/// sled; recovery rebuilds everything past the last checkpoint from the write-ahead file.
pub(crate) fn commit_batch(
    trees: &Trees,
    log: &[(IVec, IVec)],
    streams: &[(IVec, IVec)],
    idempotency: &[(IVec, IVec)],
) -> Result<(), LedgerError> {
    for (k, v) in log {
        trees.log.insert(k, v.clone())?;
    }
    for (k, v) in streams {
        trees.streams.insert(k, v.clone())?;
    }
    for (k, v) in idempotency {
        trees.idempotency.insert(k, v.clone())?;
    }
    Ok(())
}
