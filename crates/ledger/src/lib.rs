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
//!
//! # How it works
//!
//! The layout of the data folder is in `layout.rs`, the trees' keys and values in `trees.rs`,
//! the canonical bytes in `event.rs`; each module's own documentation says why it is as it is.
//!
//! ## Durability: the write-ahead file
//!
//! sled 0.34's `flush` writes with `pwrite` and waits on `sync_file_range`, which does not flush the
//! device's write cache (sled issue #1452). The straightforward fix — `flush`, then `fdatasync` of
//! sled's `db` file — costs two waits on the device per batch. Instead:
//!
//! 1. The writer writes the batch's stored events (and idempotency entries) as one record to
//!    `ledger.wal` and calls `fdatasync` on it: **one device round trip**, after which the batch is on
//!    stable storage. The record carries its length and a SHA-256 digest, so a record torn by a crash
//!    is recognised and dropped (it was never acknowledged). The file is written **in place**: it
//!    grows in zero-filled 1 MiB chunks and is never truncated, so a sync has no size or block map
//!    to commit to the file system's journal (`docs/decisions/write-ahead-file-in-place.md`). While
//!    the file system has less than 4 MiB free, appends are refused (`NoSpace`): records need no new
//!    blocks, and sled, which fails every later write after one failed write of its own, must never
//!    be the one to meet a full disk.
//! 2. While the writer waits on that sync, an applier thread applies the same batch to sled's three
//!    trees **entry by entry, not in a sled transaction** (memory only; sled's periodic flusher is
//!    off). The write-ahead file already makes the batch atomic and durable, and readers stop at the
//!    durable head; a sled transaction cost a single writer 25-30 % of its rate
//!    (`docs/decisions/ledger-apply-without-transactions.md`).
//! 3. Only when both succeed does the durable head move and every caller in the batch get its answer.
//!    A batch that took over 50 ms is logged at debug level with its time in the sync and in sled
//!    (`COUNCILFLOW_LOG=info,councilflow_ledger=debug`), as is each checkpoint's length: a slow
//!    mutation can be put down to the disk or to the ledger from the server's log alone.
//! 4. Every 8 MiB of write-ahead file, after answering, the writer **checkpoints**: it records the
//!    head position under `checkpointed` and the file's length under `wal-length` in the `meta`
//!    tree, then sled `flush`, `fdatasync` of sled's `db` file, any new blob file synced; then the
//!    file's first record is overwritten with zeros and synced, ending its *generation*, and the
//!    next record goes at the start again. Shutdown checkpoints too. A checkpoint that fails stops
//!    every later append until a restart.
//! 5. `Ledger::open` first checks the evidence: the file must exist if the database holds events,
//!    be no shorter than `wal-length`, and hold no intact record of a position past what it proves
//!    after a damaged one; otherwise it refuses, changing nothing, naming the file and the two ways
//!    out (a backup, or `councilflow recover --accept-loss`). Then it re-applies the file's current
//!    generation (the records from offset 0 whose positions follow on): each event must chain on
//!    from the event before the generation, which sled holds durably, and equal what sled holds at
//!    its position; its log, stream-index and idempotency entries are written again. Re-applying
//!    what the marker already covers is what makes a failed checkpoint safe. Events sled holds past
//!    the last proven position never reached the file's `fdatasync`, so were never acknowledged: they
//!    are set aside (with a warning in the log). Then it checkpoints.
//!
//! This is the equivalent the ledger issue allows: an acknowledged event is in an fdatasync'ed file
//! before the answer goes out, and sled's own file becomes durable at checkpoints, each of which is an
//! explicit `flush` plus a real `fdatasync`. Every directory entry the ledger creates is synced.
//!
//! Failure handling:
//! - The file system is nearly full, or the write-ahead `write` fails: sled was not touched, the
//!   callers get `NoSpace` (or a storage error), and later appends succeed once space is freed. A
//!   partial record left by a failed write fails its digest and the next record overwrites it.
//! - The sync or sled's apply fails after the write: sled may hold events whose durability is
//!   unknown, or the file holds a batch sled lacks. The writer then refuses every later append ("restart
//!   to recover") rather than hand out those positions again; the next open settles it from the file.
//!   Callers in that batch got an error although their events may survive: they retry with the same
//!   idempotency key, which returns the first result if it did.
//!
//! ## Group commit
//!
//! `Ledger::append` sends a request to the writer thread over a channel. The writer takes the first
//! request, drains what else is queued (up to 8,192 events), decides each one (idempotency first, then
//! the expected version, against the committed state plus what this batch already holds), hashes the
//! new events onto the chain, and commits the batch as above. While one batch syncs, the next queues,
//! so 64 concurrent writers share roughly one `fdatasync` per batch.
//!
//! ## Reads and subscriptions
//!
//! `read_all` pages the `log` tree; `read_stream` walks the `streams` index. `subscribe(from)` returns a
//! `Subscription` whose `next()` reads from the log in pages until it reaches the durable head, then
//! waits on a `watch` channel for the head to move: a slow subscriber reads what it missed from the
//! log, so it never drops an event, and the ledger never buffers events for it.
//!
//! ## Recovery and operator tools
//!
//! - `verify` walks the `log` tree: consecutive positions, stored hash matches the stored bytes,
//!   canonical form, `prev_hash` chains, stream versions consecutive, the `streams` index entry of every
//!   event present and equal, no stray index entries, idempotency entries well-formed.
//! - `export` writes newline-delimited JSON: a header (`format`, `version`, `events`, `head_hash`) and one
//!   line per event with both hashes and the payload embedded verbatim; the header lets a reader detect
//!   truncation. `verify_export` checks a file on its own. `import` checks the chain line by line into an
//!   empty folder, marking the folder "import in progress" until the end so a half-imported folder never
//!   opens.
//! - A second process on the same folder is told the folder is in use (`LedgerError::InUse`): the
//!   ledger's own lock (`lock.rs`: an `flock` on `councilflow.lock` and an abstract Unix socket named
//!   after the folder) holds where sled's `flock` is not enforced (LazyFS, some network file
//!   systems). `people` and `token` then read the running server's files.
//! - `councilflow recover --accept-loss` opens a folder the ledger refused, setting aside what the
//!   write-ahead file no longer proves; `verify` lists set-aside events with their payloads.

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
