//! The event envelope, its canonical bytes and the hash chain.
//!
//! Every committed event is stored as `prev_hash (32 bytes) ‖ hash (32 bytes) ‖ canonical bytes`,
//! where `hash = SHA-256(prev_hash ‖ canonical bytes)`. The canonical bytes are a fixed binary
//! layout rather than JSON, for two reasons: decoding must be fast enough to replay hundreds of
//! thousands of events a second, and a hash must never depend on how a JSON library happens to
//! order keys or print numbers. The payload inside is JSON text, kept byte for byte as it was
//! first serialised, so it hashes the same forever.
//!
//! ## Canonical bytes (what the hash covers)
//!
//!
//! All integers big-endian:
//!
//! ```text
//! u8   format (1)
//! u64  position
//! u64  version
//! [16] id (UUID v7)
//! u64  time, microseconds since 1970-01-01T00:00:00Z (two's complement)
//! u32  length ‖ stream (UTF-8)
//! u32  length ‖ kind
//! u32  length ‖ actor
//! u32  length ‖ payload (JSON text, byte for byte as appended)
//! ```
//!
//! A binary layout rather than JSON because a hash must never depend on how a JSON library orders keys
//! or prints numbers, and because decoding it is cheap enough to replay hundreds of thousands of events
//! a second. An export carries every field plus the payload's exact text, so anyone can rebuild these
//! bytes and check the chain without councilflow.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::LedgerError;

/// The hash the first event chains from.
pub const GENESIS: Hash = Hash([0; 32]);

/// Largest payload (JSON text) one event may carry. It bounds the largest tree node the ledger
/// can make (about 20 events), which must stay below the size at which sled writes a node to a
/// blob file of its own (see `layout.rs`).
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Largest stream, kind, actor or idempotency key, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// The first byte of the canonical layout, so a future layout can be told apart.
const FORMAT_V1: u8 = 1;

/// A SHA-256 digest in the chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The hash of an event: SHA-256 over the previous hash and the event's canonical bytes.
    pub fn chain(prev: &Hash, canonical: &[u8]) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(prev.0);
        hasher.update(canonical);
        Hash(hasher.finalize().into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Result<Hash, LedgerError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).map_err(|e| {
            LedgerError::Invalid(format!("not a 64-digit hex hash ({e}): {text:?}"))
        })?;
        Ok(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

/// An event a caller wants to append: the ledger adds position, version, id, time and hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    kind: String,
    actor: String,
    payload: String,
}

impl NewEvent {
    /// Serialises `payload` to JSON now, in the caller's task, so the single writer only hashes.
    pub fn new(
        kind: impl Into<String>,
        actor: impl Into<String>,
        payload: &impl Serialize,
    ) -> Result<NewEvent, LedgerError> {
        let payload = serde_json::to_string(payload)
            .map_err(|e| LedgerError::Invalid(format!("payload is not serialisable: {e}")))?;
        Self::checked(kind.into(), actor.into(), payload)
    }

    /// Takes payload text that is already JSON (checked here).
    pub fn from_json_text(
        kind: impl Into<String>,
        actor: impl Into<String>,
        payload: impl Into<String>,
    ) -> Result<NewEvent, LedgerError> {
        let payload = payload.into();
        serde_json::from_str::<&serde_json::value::RawValue>(&payload)
            .map_err(|e| LedgerError::Invalid(format!("payload is not JSON: {e}")))?;
        Self::checked(kind.into(), actor.into(), payload)
    }

    fn checked(kind: String, actor: String, payload: String) -> Result<NewEvent, LedgerError> {
        check_name("kind", &kind)?;
        if actor.len() > MAX_NAME_BYTES {
            return Err(LedgerError::Invalid(format!(
                "actor is {} bytes; at most {MAX_NAME_BYTES}",
                actor.len()
            )));
        }
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(LedgerError::Invalid(format!(
                "payload is {} bytes; at most {MAX_PAYLOAD_BYTES}",
                payload.len()
            )));
        }
        Ok(NewEvent {
            kind,
            actor,
            payload,
        })
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn payload(&self) -> &str {
        &self.payload
    }
}

/// Checks a stream name, kind or idempotency key: non-empty, bounded, printable.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), LedgerError> {
    if name.is_empty() {
        return Err(LedgerError::Invalid(format!("{what} must not be empty")));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(LedgerError::Invalid(format!(
            "{what} is {} bytes; at most {MAX_NAME_BYTES}",
            name.len()
        )));
    }
    // The stream index separates stream and version with a NUL byte, so no name may hold one;
    // other control characters are refused because they only ever mean a caller bug.
    if name.chars().any(char::is_control) {
        return Err(LedgerError::Invalid(format!(
            "{what} {name:?} contains a control character"
        )));
    }
    Ok(())
}

/// A committed event, as every reader sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Global position in the log, from 1, without gaps.
    pub position: u64,
    pub stream: String,
    /// Position within the stream, from 1, without gaps.
    pub version: u64,
    /// UUID v7: unique, and sortable by creation time.
    pub id: Uuid,
    pub kind: String,
    /// When the ledger committed it (UTC, microsecond precision, never decreasing).
    pub at: DateTime<Utc>,
    pub actor: String,
    /// JSON text exactly as appended.
    pub payload: String,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl StoredEvent {
    /// The payload as a JSON value.
    pub fn payload_json(&self) -> serde_json::Value {
        // Safe to expect valid JSON: every payload was checked when it was appended or imported,
        // and `verify` would name the position of any stored payload altered since.
        serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null)
    }

    /// The payload parsed into a caller's type.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }

    /// The time as RFC 3339 with microseconds, as exported.
    pub fn at_rfc3339(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// The bytes the hash covers (after the previous hash).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            64 + self.stream.len() + self.kind.len() + self.actor.len() + self.payload.len(),
        );
        write_canonical(&mut out, self);
        out
    }

    /// The hash this event should carry, recomputed from its fields.
    pub fn computed_hash(&self) -> Hash {
        Hash::chain(&self.prev_hash, &self.canonical_bytes())
    }

    /// The stored form: previous hash, hash, canonical bytes.
    pub(crate) fn encode_stored(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            128 + self.stream.len() + self.kind.len() + self.actor.len() + self.payload.len(),
        );
        out.extend_from_slice(&self.prev_hash.0);
        out.extend_from_slice(&self.hash.0);
        write_canonical(&mut out, self);
        out
    }

    /// Decodes a stored value without checking its hash (see [`check_stored`]).
    pub(crate) fn decode_stored(bytes: &[u8]) -> Result<StoredEvent, String> {
        if bytes.len() < 64 {
            return Err(format!("stored value is {} bytes, too short", bytes.len()));
        }
        let mut prev_hash = [0u8; 32];
        prev_hash.copy_from_slice(&bytes[..32]);
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&bytes[32..64]);
        let mut r = Reader {
            bytes: &bytes[64..],
        };
        if r.u8()? != FORMAT_V1 {
            return Err("unknown canonical format".into());
        }
        let position = r.u64()?;
        let version = r.u64()?;
        let id = Uuid::from_bytes(r.array::<16>()?);
        let micros = r.u64()? as i64;
        let at = DateTime::from_timestamp_micros(micros)
            .ok_or_else(|| format!("time {micros} is out of range"))?;
        let stream = r.string()?;
        let kind = r.string()?;
        let actor = r.string()?;
        let payload = r.string()?;
        if !r.bytes.is_empty() {
            return Err(format!("{} trailing bytes", r.bytes.len()));
        }
        Ok(StoredEvent {
            position,
            stream,
            version,
            id,
            kind,
            at,
            actor,
            payload,
            prev_hash: Hash(prev_hash),
            hash: Hash(hash),
        })
    }
}

/// Checks that a stored value's hash matches its own bytes, without decoding it.
pub(crate) fn stored_hash_matches(bytes: &[u8]) -> bool {
    bytes.len() >= 64 && {
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&bytes[..32]);
        Hash::chain(&Hash(prev), &bytes[64..]).0 == bytes[32..64]
    }
}

fn write_canonical(out: &mut Vec<u8>, e: &StoredEvent) {
    out.push(FORMAT_V1);
    out.extend_from_slice(&e.position.to_be_bytes());
    out.extend_from_slice(&e.version.to_be_bytes());
    out.extend_from_slice(e.id.as_bytes());
    out.extend_from_slice(&(e.at.timestamp_micros() as u64).to_be_bytes());
    for field in [&e.stream, &e.kind, &e.actor, &e.payload] {
        // Lengths fit in u32: names are bounded by MAX_NAME_BYTES, payloads by MAX_PAYLOAD_BYTES.
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
}

/// A bounds-checked cursor over canonical bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.bytes.len() < n {
            return Err(format!(
                "truncated: wanted {n} bytes, {} left",
                self.bytes.len()
            ));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.array::<8>()?))
    }

    fn string(&mut self) -> Result<String, String> {
        let len = u32::from_be_bytes(self.array::<4>()?) as usize;
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec()).map_err(|e| format!("field is not UTF-8: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StoredEvent {
        let mut e = StoredEvent {
            position: 7,
            stream: "plan-1".into(),
            version: 3,
            id: Uuid::now_v7(),
            kind: "SectionEdited".into(),
            at: DateTime::from_timestamp_micros(1_721_347_200_123_456).unwrap(),
            actor: "person-1".into(),
            payload: r#"{"text":"£15.7m","n":1.5}"#.into(),
            prev_hash: Hash([9; 32]),
            hash: GENESIS,
        };
        e.hash = e.computed_hash();
        e
    }

    #[test]
    fn a_stored_event_decodes_to_the_same_event() {
        let e = sample();
        let stored = e.encode_stored();
        assert_eq!(StoredEvent::decode_stored(&stored).unwrap(), e);
        assert!(stored_hash_matches(&stored));
    }

    #[test]
    fn changing_any_byte_breaks_the_hash() {
        let stored = sample().encode_stored();
        for i in 0..stored.len() {
            let mut bad = stored.clone();
            bad[i] ^= 0x01;
            assert!(!stored_hash_matches(&bad), "byte {i} changed unnoticed");
        }
    }

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        let stored = sample().encode_stored();
        for len in 0..stored.len() {
            assert!(StoredEvent::decode_stored(&stored[..len]).is_err());
        }
    }

    #[test]
    fn names_with_control_characters_are_refused() {
        assert!(check_name("stream", "a\0b").is_err());
        assert!(check_name("stream", "").is_err());
        assert!(check_name("stream", &"x".repeat(MAX_NAME_BYTES + 1)).is_err());
        assert!(check_name("stream", "plan-ä").is_ok());
    }

    mod props {
        //! Decoding stored bytes (the CI stand-in for fuzzing it): arbitrary bytes and mutated
        //! valid records give an event or an error, never a panic; a record decodes only to an
        //! event whose re-encoding is the same bytes.
        use super::*;
        use proptest::prelude::*;

        fn decode_is_total(bytes: &[u8]) {
            if let Ok(e) = StoredEvent::decode_stored(bytes) {
                assert_eq!(
                    e.encode_stored(),
                    bytes,
                    "a decoded record re-encodes byte for byte"
                );
            }
            let _ = stored_hash_matches(bytes);
        }

        /// A valid stored record with arbitrary field contents.
        fn record() -> impl Strategy<Value = Vec<u8>> {
            (
                any::<u64>(),
                any::<u64>(),
                any::<u128>(),
                any::<i64>(),
                "[a-z0-9-]{1,40}",
                "[A-Za-z]{1,30}",
                ".{1,30}",
                "[ -~]{0,200}",
                any::<[u8; 32]>(),
            )
                .prop_filter_map(
                    "a representable time",
                    |(position, version, id, micros, stream, kind, actor, text, prev)| {
                        let at = DateTime::from_timestamp_micros(micros)?;
                        let mut e = StoredEvent {
                            position,
                            stream,
                            version,
                            id: Uuid::from_u128(id),
                            kind,
                            at,
                            actor,
                            payload: serde_json::to_string(&text).ok()?,
                            prev_hash: Hash(prev),
                            hash: GENESIS,
                        };
                        e.hash = e.computed_hash();
                        Some(e.encode_stored())
                    },
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                decode_is_total(&bytes);
            }

            #[test]
            fn a_valid_record_round_trips(stored in record()) {
                let e = StoredEvent::decode_stored(&stored).expect("a valid record decodes");
                prop_assert_eq!(e.encode_stored(), stored.clone());
                prop_assert!(stored_hash_matches(&stored));
            }

            #[test]
            fn mutated_records_never_panic(
                stored in record(),
                flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                cut in any::<usize>(),
                extra in prop::collection::vec(any::<u8>(), 0..16),
            ) {
                let mut bad = stored.clone();
                for (at, value) in &flips {
                    let i = at % bad.len();
                    bad[i] = *value;
                }
                decode_is_total(&bad);
                // Truncated and extended.
                decode_is_total(&bad[..cut % (bad.len() + 1)]);
                let mut longer = stored.clone();
                longer.extend_from_slice(&extra);
                decode_is_total(&longer);
                // Length prefixes set to huge values (the stream's length sits after the fixed
                // header of prev, hash, format, position, version, id and time).
                let header = 32 + 32 + 1 + 8 + 8 + 16 + 8;
                if stored.len() >= header + 4 {
                    let mut huge = stored.clone();
                    huge[header..header + 4].copy_from_slice(&u32::MAX.to_be_bytes());
                    decode_is_total(&huge);
                }
            }
        }
    }

    #[test]
    fn payloads_that_are_not_json_or_too_large_are_refused() {
        assert!(NewEvent::from_json_text("k", "a", "{not json").is_err());
        let big = format!("\"{}\"", "x".repeat(MAX_PAYLOAD_BYTES));
        assert!(NewEvent::from_json_text("k", "a", big).is_err());
        assert!(NewEvent::from_json_text("k", "a", "{\"ok\":true}").is_ok());
    }
}
