//! The projection snapshot: the projector's state at a ledger position, kept in a file beside the
//! ledger so that a start replays only the events after it.
//!
//! Without it a start replays the whole log, which grows without end (seconds for a million
//! events; BENCHMARKS.md has the figures). The snapshot is derived data, never the record:
//! - it is written at a clean stop, after a start that replayed many events, and every
//!   [`EVERY`] events applied, atomically (a temporary file, `fsync`, rename);
//! - it is used only if its format and build match this binary's, the workflow definitions are
//!   byte for byte the ones it was taken with (they shape how events apply), and the ledger holds
//!   an event at its position with the hash it recorded (so a ledger replaced by an import, or
//!   cut back, is never paired with a stale snapshot);
//! - anything else (missing, unreadable, damaged, stale) means a full replay and a warning in the
//!   log. A crash leaves the last snapshot behind; the events after it are replayed as usual.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use councilflow_governance::ProjectionsSnapshot;
use councilflow_ledger::{Hash, Ledger};
use councilflow_reminders::ReminderLog;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file, in the data folder.
pub const FILE: &str = "projections.snapshot";

/// Write a snapshot after this many events applied since the last one (and after a start that
/// replayed more than this).
pub const EVERY: u64 = 100_000;

/// Bump when the stored layout changes, or when applying an event changes what it produces:
/// an older snapshot is then replayed over rather than trusted.
const FORMAT: u32 = 4;

/// What the file holds.
#[derive(Serialize, Deserialize)]
pub(crate) struct Snapshot {
    format: u32,
    /// The version of the build that wrote it.
    build: String,
    /// SHA-256 over the workflow definitions it was taken with.
    definitions: String,
    /// The last ledger position applied, and that event's hash.
    pub position: u64,
    hash: String,
    pub projections: ProjectionsSnapshot,
    pub reminders: ReminderLog,
    pub versions: HashMap<String, u64>,
}

impl Snapshot {
    pub(crate) fn new(
        definitions: &str,
        position: u64,
        hash: &Hash,
        projections: ProjectionsSnapshot,
        reminders: ReminderLog,
        versions: HashMap<String, u64>,
    ) -> Snapshot {
        Snapshot {
            format: FORMAT,
            build: env!("CARGO_PKG_VERSION").to_owned(),
            definitions: definitions.to_owned(),
            position,
            hash: hash.to_hex(),
            projections,
            reminders,
            versions,
        }
    }
}

/// SHA-256 over the workflow definitions' texts, in text order. Names are left out: the same
/// files read from `./workflows`, another folder or the binary's embedded copies are the same
/// definitions.
pub(crate) fn definitions_digest(workflows: &[(String, String)]) -> String {
    let mut texts: Vec<&str> = workflows.iter().map(|(_, text)| text.as_str()).collect();
    texts.sort_unstable();
    let mut hasher = Sha256::new();
    for text in texts {
        // Length first, so no two different sets of files hash alike.
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    }
    hex::encode(hasher.finalize())
}

fn path(data: &Path) -> PathBuf {
    data.join(FILE)
}

/// The snapshot in `data` and the hash of the ledger's event at its position, if there is one
/// this binary can trust for this ledger; otherwise `None`, with the reason logged.
pub(crate) fn load(data: &Path, definitions: &str, ledger: &Ledger) -> Option<(Snapshot, Hash)> {
    let file = path(data);
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(error = %e, file = %file.display(), "cannot read the projection snapshot; replaying the whole log");
            return None;
        }
    };
    let reject = |why: String| {
        tracing::warn!(file = %file.display(), "projection snapshot not used ({why}); replaying the whole log");
        None
    };
    let snapshot: Snapshot = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => return reject(format!("it does not decode: {e}")),
    };
    if snapshot.format != FORMAT || snapshot.build != env!("CARGO_PKG_VERSION") {
        return reject(format!(
            "written by build {} in format {}",
            snapshot.build, snapshot.format
        ));
    }
    if snapshot.definitions != definitions {
        return reject("the workflow definitions changed since".into());
    }
    match ledger.event(snapshot.position) {
        Ok(Some(event)) if event.hash.to_hex() == snapshot.hash => Some((snapshot, event.hash)),
        Ok(Some(_)) => reject(format!(
            "the ledger's event at position {} is not the one it was taken at",
            snapshot.position
        )),
        Ok(None) => reject(format!(
            "the ledger has no event at position {}",
            snapshot.position
        )),
        Err(e) => reject(format!("reading the ledger: {e}")),
    }
}

/// Writes `snapshot` atomically: a temporary file, synced, renamed over the old one.
pub(crate) fn write(data: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    councilflow_ledger::durable::replace_file(&path(data), |out| {
        serde_json::to_writer(out, snapshot).map_err(std::io::Error::from)
    })
}
