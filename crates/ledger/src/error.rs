//! The ledger's one error type.
//!
//! Errors are `Clone` because one failed group commit answers every caller in the batch with the
//! same error; storage errors therefore carry their message rather than the source value.

use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum LedgerError {
    /// Optimistic concurrency: the stream is not at the version the caller expected. Nothing was
    /// written.
    #[error("stream {stream:?} is at version {actual}, not the expected {expected}")]
    Conflict {
        stream: String,
        expected: u64,
        actual: u64,
    },

    /// The caller asked for something malformed (empty batch, bad name, payload too large).
    #[error("invalid append: {0}")]
    Invalid(String),

    /// sled or the file system failed. Nothing in the failed batch was acknowledged; it may or may
    /// not have reached the disk, so callers retry with the same idempotency key.
    #[error("storage failed: {0}")]
    Storage(String),

    /// The file system has no space left. Nothing in the failed batch was acknowledged, and
    /// appends succeed again once space is freed.
    #[error("no space left on the device: {0}")]
    NoSpace(String),

    /// The stored log does not verify.
    #[error("the log is broken at position {position}: {reason}")]
    Corrupt { position: u64, reason: String },

    /// An export file (or import) does not verify.
    #[error("line {line}: {reason}")]
    BadExport { line: u64, reason: String },

    /// Another process holds the data folder (a running server, or a tool).
    #[error(
        "the data folder {0} is in use by another councilflow process \
         (stop the server or point at another --data folder)"
    )]
    InUse(String),

    /// Opening would mean trusting less evidence than the ledger promised to keep: the
    /// write-ahead file is missing, shorter than recorded, or damaged before intact records.
    /// The message names the file and what the operator can do; nothing was changed.
    #[error("the ledger was not opened: {0}")]
    Unproven(String),

    /// The ledger was shut down.
    #[error("the ledger is shut down")]
    Closed,
}

impl From<sled::Error> for LedgerError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Io(io) => io.into(),
            other => LedgerError::Storage(other.to_string()),
        }
    }
}

impl From<std::io::Error> for LedgerError {
    fn from(e: std::io::Error) -> Self {
        // ENOSPC, and EDQUOT (a quota counts as full for whoever hits it).
        if e.kind() == std::io::ErrorKind::StorageFull
            || e.kind() == std::io::ErrorKind::QuotaExceeded
        {
            LedgerError::NoSpace(e.to_string())
        } else {
            LedgerError::Storage(e.to_string())
        }
    }
}
