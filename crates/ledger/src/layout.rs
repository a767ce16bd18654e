//! Where the ledger keeps its files in the data folder, and how sled's files are made durable.
//!
//! ```text
//! DATA/councilflow.lock   the one-process lock (lock.rs)
//! DATA/ledger/            sled's database: db, conf, snap.* (and blobs/, which stays empty)
//! DATA/ledger.wal         the write-ahead file (wal.rs)
//! ```
//! (The layers above keep `tokens.jsonl`, `people.tsv`, `projections.snapshot` and `mail/` in
//! DATA too.)
//!
//! sled writes a tree node larger than a quarter of its segment to a file of its own under
//! `blobs/`, and removes that file again when a later write replaces the node, whenever it likes:
//! a removal can reach the disk before the write that replaced the node, and a power cut then
//! leaves checkpointed data pointing at a file that is gone. So the database is opened with
//! 8 MiB segments, whose quarter (2 MiB) is over one and a half times the largest node the ledger
//! can make: a leaf splits past 16 entries and merges up to 20, each at most one stored event
//! (64 KiB of payload and its envelope), about 1.3 MiB. sled then never writes a blob
//! (`docs/decisions/power-loss.md`; a test writes the largest payloads and checks). Not 16 MiB,
//! which sled's configuration accepts: an IO buffer's header keeps its offset in 24 bits, a full
//! 16 MiB buffer overflows it, and a flush then waits forever (it hung a benchmark here).
//!
//! sled also writes `conf` and its page-table snapshot `snap.*` when it opens, without syncing
//! their names (nor `conf`'s content). A new database is therefore made in `ledger.creating/`,
//! synced file by file, and renamed into place; an existing one has those files synced again
//! at each open, before the ledger accepts a write.
//!
//! Before this layout (0.1) sled's files sat in DATA itself, with sled's default 512 KiB
//! segments, and wrote blobs. Such a folder is upgraded at open (see `upgrade.rs`).

use std::collections::HashSet;
use std::ffi::OsString;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use crate::durable::sync_dir;
use crate::error::LedgerError;

/// sled's folder inside the data folder.
pub const SLED_DIR: &str = "ledger";
/// Where a new database is made before it is renamed to [`SLED_DIR`].
const CREATING: &str = "ledger.creating";
/// Where an upgraded copy is made before it is renamed to [`SLED_DIR`].
pub(crate) const UPGRADING: &str = "ledger.upgrading";

/// sled's segment size for the database (see the module's documentation).
pub const SEGMENT_BYTES: usize = 8 << 20;

// sled 0.34 keeps an IO buffer's offset in 24 bits: a segment must stay below 16 MiB.
const _: () = assert!(SEGMENT_BYTES < 1 << 24);
// A quarter of a segment, less its header, must hold the largest node with room to spare.
const _: () = assert!(SEGMENT_BYTES / 4 > 3 * (20 * (64 << 10)) / 2);
/// sled's default segment size, which the 0.1 layout used.
pub(crate) const LEGACY_SEGMENT_BYTES: usize = 512 * 1024;

/// What a data folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// No database yet.
    Fresh,
    /// A database in [`SLED_DIR`].
    Current,
    /// sled's files in the data folder itself (0.1).
    Legacy,
}

/// Whether `data` holds a ledger (in the current layout or 0.1's), without opening it.
pub fn holds_ledger(data: &Path) -> bool {
    data.join(SLED_DIR).join("db").exists() || data.join("db").exists()
}

/// Looks at the data folder, first finishing or undoing whatever an interrupted creation or
/// upgrade left: a half-made `ledger.creating/` or `ledger.upgrading/` is removed (the folder it
/// was to replace is intact), and a 0.1 database left beside a finished upgrade is removed (the
/// upgraded copy holds all of it and was made durable before the rename that finished it).
pub(crate) fn inspect(data: &Path) -> Result<Found, LedgerError> {
    let mut changed = false;
    for unfinished in [CREATING, UPGRADING] {
        let path = data.join(unfinished);
        if path.exists() {
            tracing::warn!(folder = %path.display(), "removing a database whose making was interrupted");
            std::fs::remove_dir_all(&path)?;
            changed = true;
        }
    }
    let found = if data.join(SLED_DIR).join("db").exists() {
        if data.join("db").exists() {
            tracing::info!("removing the 0.1 database left beside its finished upgrade");
            remove_legacy(data)?;
            changed = true;
        }
        Found::Current
    } else if data.join("db").exists() {
        Found::Legacy
    } else {
        Found::Fresh
    };
    if changed {
        sync_dir(data)?;
    }
    Ok(found)
}

/// Makes a new, empty database: in `ledger.creating/`, every file synced, then renamed into
/// place and the data folder synced. A power cut leaves no database or a whole one.
pub(crate) fn create(data: &Path, cache_capacity_bytes: u64) -> Result<(), LedgerError> {
    let creating = data.join(CREATING);
    {
        let db = open_sled(&creating, SEGMENT_BYTES, cache_capacity_bytes)?;
        db.flush()?;
    }
    sync_files(&creating, &mut HashSet::new())?;
    std::fs::rename(&creating, data.join(SLED_DIR))?;
    sync_dir(data)?;
    Ok(())
}

/// Opens sled in `dir` with `segment_bytes` segments.
///
/// sled may panic on a database a power cut damaged in ways it does not expect (as it did on an
/// empty `conf` beside a full `db`): the panic becomes an error that names the folder, so the
/// operator reads what is wrong instead of a backtrace. A lock held a moment too long by a handle
/// this process just closed is waited for (up to a second).
pub(crate) fn open_sled(
    dir: &Path,
    segment_bytes: usize,
    cache_capacity_bytes: u64,
) -> Result<sled::Db, LedgerError> {
    let open = || {
        let config = sled::Config::new()
            .path(dir)
            .segment_size(segment_bytes)
            .cache_capacity(cache_capacity_bytes)
            // Durability comes from the write-ahead file; sled's own file is made durable at
            // checkpoints. sled's periodic flusher would only add device syncs that compete
            // with the write-ahead fdatasync every acknowledgement waits on.
            .flush_every_ms(None);
        std::panic::catch_unwind(AssertUnwindSafe(|| config.open())).unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "no reason given".into());
            Err(sled::Error::Unsupported(format!(
                "the database in {} cannot be read (sled stopped: {why}); restore the data \
                 folder from a backup",
                dir.display()
            )))
        })
    };
    // sled wraps the flock failure in an io::Error of its own making; its text is the only
    // stable marker.
    let locked = |e: &sled::Error| matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"));
    let mut attempt = open();
    for _ in 0..50 {
        match &attempt {
            Err(e) if locked(e) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                attempt = open();
            }
            _ => break,
        }
    }
    attempt.map_err(|e| {
        if locked(&e) {
            LedgerError::InUse(dir.display().to_string())
        } else {
            e.into()
        }
    })
}

/// `fsync`s sled's files other than `db` (which the checkpoint syncs itself) that are not in
/// `synced` yet: `conf`, each `snap.*`, each file under `blobs/`; then the folders that hold
/// them, if any was new. Returns how many files it synced.
pub(crate) fn sync_files(dir: &Path, synced: &mut HashSet<OsString>) -> Result<usize, LedgerError> {
    let mut count = 0;
    let mut sync_new = |folder: &Path, prefix: &str, keep: &dyn Fn(&str) -> bool| {
        let mut new = 0;
        for entry in std::fs::read_dir(folder)? {
            let entry = entry?;
            let name = entry.file_name();
            let text = name.to_string_lossy();
            if !keep(&text) || !entry.file_type()?.is_file() {
                continue;
            }
            let key = OsString::from(format!("{prefix}{text}"));
            if synced.contains(&key) {
                continue;
            }
            std::fs::File::open(entry.path())?.sync_all()?;
            synced.insert(key);
            new += 1;
        }
        if new > 0 {
            sync_dir(folder)?;
        }
        Ok::<usize, std::io::Error>(new)
    };
    count += sync_new(dir, "", &|name| {
        name == "conf" || (name.starts_with("snap.") && !name.ends_with(".generating"))
    })?;
    let blobs = dir.join("blobs");
    if blobs.is_dir() {
        count += sync_new(&blobs, "blobs/", &|_| true)?;
    }
    Ok(count)
}

/// Removes the 0.1 database's files from the data folder (only after an upgrade made a durable
/// copy of it): `db`, `conf`, `snap.*` and `blobs/`.
pub(crate) fn remove_legacy(data: &Path) -> Result<(), LedgerError> {
    for entry in std::fs::read_dir(data)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path: PathBuf = entry.path();
        match name.as_ref() {
            "db" | "conf" => std::fs::remove_file(path)?,
            "blobs" => std::fs::remove_dir_all(path)?,
            n if n.starts_with("snap.") => std::fs::remove_file(path)?,
            _ => {}
        }
    }
    Ok(())
}
