//! councilflow's ledger: an append-only, hash-chained event log on sled.
//!
//! It knows nothing of councils. It stores *events* in *streams*: every event has a global
//! position (from 1, no gaps), a version within its stream (from 1, no gaps), a UUID v7, a kind,
//! the commit time, an actor, a JSON payload, and a SHA-256 hash chaining it to the event before.
//!
//! - [`Ledger::append`] is all-or-nothing for a batch, checks the stream's expected version
//!   (optimistic concurrency), honours idempotency keys (also after a restart), and answers only
//!   once the batch is on stable storage. Concurrent appends share one sync (group commit).
//! - Reads: [`Ledger::read_stream`], [`Ledger::read_all`] (paged), [`Ledger::head`], and
//!   [`Ledger::subscribe`], a gapless live feed that catches a slow reader up from the log.
//! - [`Ledger::verify`] re-walks the chain; [`Ledger::export`] / [`Ledger::import`] move the log
//!   through newline-delimited JSON that [`verify_export`] can check on its own.
//!
//! There is no update and no delete: nothing in this crate rewrites or removes a stored event.
//! (Recovery moves events sled holds that the write-ahead file does not prove out of the chain,
//! into a tree of their own that `verify` reports: see `recovery.rs`.)

pub mod durable;
mod error;
mod event;
mod export;
mod layout;
mod ledger;
mod lock;
mod recovery;
mod trees;
mod upgrade;
mod verify;
mod wal;
mod writer;

/// The decoders of bytes read from disk, for the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub mod fuzzing {
    /// Decodes one stored record (the `log` tree's value); an error for anything malformed.
    pub fn decode_stored(bytes: &[u8]) -> Result<crate::StoredEvent, String> {
        crate::event::StoredEvent::decode_stored(bytes)
    }

    /// Whether a stored record's hash matches its bytes.
    pub fn stored_hash_matches(bytes: &[u8]) -> bool {
        crate::event::stored_hash_matches(bytes)
    }

    /// Decodes write-ahead records up to the first damaged one; the length of the good prefix.
    pub fn decode_wal(bytes: &[u8]) -> usize {
        crate::wal::decode_records(bytes).1
    }
}

pub use error::LedgerError;
pub use event::{Hash, NewEvent, StoredEvent, GENESIS, MAX_NAME_BYTES, MAX_PAYLOAD_BYTES};
pub use export::{verify_export, verify_export_file};
/// sled's segment size in the ledger's database, for tools that open it directly.
#[doc(hidden)]
pub use layout::SEGMENT_BYTES as SLED_SEGMENT_BYTES;
pub use layout::{holds_ledger, SLED_DIR};
pub use ledger::{
    Appended, Config, ExpectedVersion, Head, Ledger, Page, Subscription, MAX_EVENTS_PER_APPEND,
};
pub use lock::{DataLock, LOCK_FILE};
pub use verify::{SetAside, VerifyReport};
pub use wal::FILE as WAL_FILE;
