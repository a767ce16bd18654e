//! `verify`: re-walks the whole chain and checks the indexes against the log.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::error::LedgerError;
use crate::event::{stored_hash_matches, Hash, StoredEvent, GENESIS};
use crate::ledger::{Head, Ledger};
use crate::trees::{decode_idempotency, stream_key, u64_at};

/// What a successful `verify` (or export check) saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub streams: u64,
    pub head: Head,
    /// Events recovery set aside because the write-ahead file did not prove them: not part of
    /// the chain, kept for an operator to inspect (always empty for an export).
    pub set_aside: Vec<SetAside>,
}

/// An event recovery took out of the chain (see [`Ledger::set_aside`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAside {
    /// When recovery set it aside.
    pub at: DateTime<Utc>,
    /// The event as it was stored (its position is the one it had).
    pub event: StoredEvent,
}

/// Checks events in log order: positions without gaps, chained hashes, stream versions without
/// gaps. Shared by `verify` on the database and the export reader.
#[derive(Default)]
pub(crate) struct ChainCheck {
    next_position: u64,
    prev: Hash,
    versions: HashMap<String, u64>,
}

impl ChainCheck {
    pub(crate) fn new() -> ChainCheck {
        ChainCheck {
            next_position: 1,
            prev: GENESIS,
            versions: HashMap::new(),
        }
    }

    /// Checks the next event (already decoded); `Err` carries the reason.
    pub(crate) fn check(&mut self, event: &StoredEvent) -> Result<(), String> {
        if event.position != self.next_position {
            return Err(format!(
                "position {} is missing (found {} next)",
                self.next_position, event.position
            ));
        }
        if event.prev_hash != self.prev {
            return Err(format!(
                "does not chain from position {}: previous hash {} but that event's hash is {}",
                event.position - 1,
                event.prev_hash,
                self.prev
            ));
        }
        let computed = event.computed_hash();
        if computed != event.hash {
            return Err(format!(
                "hash {} does not match the event's contents (they hash to {computed})",
                event.hash
            ));
        }
        let version = self.versions.entry(event.stream.clone()).or_insert(0);
        if event.version != *version + 1 {
            return Err(format!(
                "stream {:?} jumps from version {} to {}",
                event.stream, version, event.version
            ));
        }
        *version = event.version;
        self.prev = event.hash;
        self.next_position += 1;
        Ok(())
    }

    pub(crate) fn report(&self) -> VerifyReport {
        VerifyReport {
            events: self.next_position - 1,
            streams: self.versions.len() as u64,
            head: Head {
                position: self.next_position - 1,
                hash: self.prev,
            },
            set_aside: Vec::new(),
        }
    }
}

impl Ledger {
    /// The events recovery set aside (see `recovery.rs`), oldest recovery first.
    pub fn set_aside(&self) -> Result<Vec<SetAside>, LedgerError> {
        let mut out = Vec::new();
        for item in self.trees().set_aside.iter() {
            let (key, stored) = item?;
            let micros = u64_at(&key, 0).unwrap_or(0);
            let position = u64_at(&key, 8).unwrap_or(0);
            let event =
                StoredEvent::decode_stored(&stored).map_err(|reason| LedgerError::Corrupt {
                    position,
                    reason: format!("an event set aside at recovery cannot be read: {reason}"),
                })?;
            out.push(SetAside {
                at: DateTime::from_timestamp_micros(micros as i64).unwrap_or_default(),
                event,
            });
        }
        Ok(out)
    }

    /// Walks the chain from the first event, checking every hash, that positions and stream
    /// versions have no gaps, and that the stream and idempotency indexes agree with the log.
    /// The error names the first bad position.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        let trees = self.trees();
        let end = self.head().position;
        let mut chain = ChainCheck::new();
        for item in trees.log.range(..=end.to_be_bytes()) {
            let (key, stored) = item?;
            let position =
                u64_at(&key, 0)
                    .filter(|_| key.len() == 8)
                    .ok_or_else(|| LedgerError::Corrupt {
                        position: chain.report().head.position + 1,
                        reason: format!("a log key is {} bytes, not a position", key.len()),
                    })?;
            let corrupt = |reason: String| LedgerError::Corrupt { position, reason };
            // The raw check first, so a changed byte anywhere (even one that breaks decoding) is
            // reported as what it is.
            if !stored_hash_matches(&stored) {
                return Err(corrupt(
                    "the stored bytes do not match the stored hash (altered?)".into(),
                ));
            }
            let event = StoredEvent::decode_stored(&stored).map_err(&corrupt)?;
            if event.position != position {
                return Err(corrupt(format!(
                    "stored under position {position} but says {}",
                    event.position
                )));
            }
            if event.encode_stored() != stored.as_ref() {
                return Err(corrupt("the stored bytes are not in canonical form".into()));
            }
            chain.check(&event).map_err(&corrupt)?;
            let indexed = trees
                .streams
                .get(stream_key(&event.stream, event.version))?
                .and_then(|v| u64_at(&v, 0));
            if indexed != Some(position) {
                return Err(corrupt(format!(
                    "the stream index for {:?} version {} says {:?}",
                    event.stream, event.version, indexed
                )));
            }
        }
        let report = chain.report();
        if report.head.position != end {
            return Err(LedgerError::Corrupt {
                position: report.head.position + 1,
                reason: format!("missing; the head is at {end}"),
            });
        }

        // Every index entry must belong to an event checked above: equal counts, given that each
        // event's own entry was found, means no stray entries.
        let mut indexed = 0u64;
        for item in trees.streams.iter() {
            let (_, value) = item?;
            let position = u64_at(&value, 0).ok_or_else(|| LedgerError::Corrupt {
                position: end,
                reason: "a stream index entry is not a position".into(),
            })?;
            // Entries past the durable head belong to a batch still being synced on a live
            // ledger; they are checked once it is durable.
            if position <= end {
                indexed += 1;
            }
        }
        if indexed != report.events {
            return Err(LedgerError::Corrupt {
                position: end,
                reason: format!(
                    "the stream index has {indexed} entries for {} events",
                    report.events
                ),
            });
        }
        for item in trees.idempotency.iter() {
            let (key, value) = item?;
            let (first, count) =
                decode_idempotency(&value).ok_or_else(|| LedgerError::Corrupt {
                    position: 0,
                    reason: format!("idempotency entry {:?} is malformed", key),
                })?;
            if first == 0 || count == 0 {
                return Err(LedgerError::Corrupt {
                    position: first,
                    reason: "an idempotency entry names no events".into(),
                });
            }
        }
        Ok(VerifyReport {
            set_aside: self.set_aside()?,
            ..report
        })
    }
}
