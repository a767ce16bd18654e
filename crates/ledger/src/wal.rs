//! The write-ahead file that makes a batch durable with one device round trip.
//!
//! sled's `flush` writes its buffer and waits on `sync_file_range`, and a real `fdatasync` must
//! follow it to empty the device's write cache (sled issue #1452): two waits on the device per
//! batch. Instead, the writer appends the batch's stored events to `ledger.wal` and calls
//! `fdatasync` on that file once: the batch is then durable and is acknowledged. The same batch is
//! applied to sled's trees in memory; sled writes it out in the background, and every
//! few MiB a *checkpoint* (sled flush, fdatasync of sled's data file, then emptying this file)
//! bounds what recovery must replay. Opening the ledger rebuilds from here everything after the
//! last checkpoint, checking the hash chain on the way, then checkpoints.
//!
//! While the writer waits on that `fdatasync`, an applier thread applies the same batch to sled's
//! memory (see `writer.rs`): an append costs about one device round trip, not one plus sled's CPU
//! time.
//!
//! Record layout: `magic (u32 BE) ‖ body length (u32 BE) ‖ SHA-256(body) ‖ body`, where the body is
//! `event count (u32) ‖ (length (u32) ‖ stored event)* ‖ key count (u32) ‖ (length (u32) ‖ key ‖
//! first position (u64) ‖ count (u32))*`. A record cut short by a crash fails its length or its
//! digest; it was never acknowledged, and recovery stops there.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use sled::IVec;

use crate::error::LedgerError;

const MAGIC: u32 = 0x4346_5741; // "CFWA"
const HEADER: usize = 4 + 4 + 32;

/// Checkpoint once the file holds this much, so recovery after a crash stays short.
pub(crate) const CHECKPOINT_BYTES: u64 = 8 * 1024 * 1024;

pub(crate) struct Wal {
    file: File,
    /// Bytes of complete, synced records.
    len: u64,
    /// Bytes written, of which the tail beyond `len` awaits its sync.
    written: u64,
}

/// One batch read back from the file.
pub(crate) struct WalBatch {
    /// Stored events (`prev_hash ‖ hash ‖ canonical bytes`), in position order.
    pub(crate) events: Vec<Vec<u8>>,
    /// Idempotency entries: key -> (first position, count).
    pub(crate) keys: Vec<(Vec<u8>, u64, u32)>,
}

impl Wal {
    /// Opens (or creates) the file and returns every complete record in it.
    pub(crate) fn open(dir: &Path) -> Result<(Wal, Vec<WalBatch>), LedgerError> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(dir.join("ledger.wal"))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (batches, valid) = decode_records(&bytes);
        if (valid as u64) < bytes.len() as u64 {
            // A torn tail from a crash mid-append: never acknowledged, so it goes.
            file.set_len(valid as u64)?;
            file.sync_data()?;
        }
        Ok((
            Wal {
                file,
                len: valid as u64,
                written: valid as u64,
            },
            batches,
        ))
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Writes one batch's record into the page cache; [`Wal::sync`] makes it durable. If the
    /// write fails, the file is cut back to its last good length so a half-written record can
    /// never sit in front of later ones; if even that fails, the error says the ledger must stop
    /// writing.
    pub(crate) fn write(
        &mut self,
        events: &[(IVec, IVec)],
        keys: &[(IVec, IVec)],
    ) -> Result<(), WalError> {
        let record = encode_record(events, keys);
        if let Err(e) = self.file.write_all(&record) {
            return match self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.sync_data())
            {
                Ok(()) => Err(WalError::Failed(e.into())),
                Err(e2) => Err(WalError::Stuck(LedgerError::Storage(format!(
                    "{e}; cutting back the write-ahead file also failed: {e2}"
                )))),
            };
        }
        self.written = self.len + record.len() as u64;
        Ok(())
    }

    /// fdatasync: everything written so far is on stable storage when this returns `Ok`.
    pub(crate) fn sync(&mut self) -> Result<(), LedgerError> {
        self.file.sync_data()?;
        self.len = self.written;
        Ok(())
    }

    /// Empties the file: called only once sled's own file holds everything in it durably.
    pub(crate) fn truncate(&mut self) -> Result<(), LedgerError> {
        self.file.set_len(0)?;
        self.file.sync_data()?;
        self.len = 0;
        self.written = 0;
        Ok(())
    }
}

pub(crate) enum WalError {
    /// Nothing was written; later appends may succeed (a full disk that is freed, say).
    Failed(LedgerError),
    /// The file may hold a partial record; the ledger must refuse writes until it is reopened.
    Stuck(LedgerError),
}

fn encode_record(events: &[(IVec, IVec)], keys: &[(IVec, IVec)]) -> Vec<u8> {
    let body_len = 8
        + events.iter().map(|(_, v)| 4 + v.len()).sum::<usize>()
        + keys.iter().map(|(k, _)| 4 + k.len() + 12).sum::<usize>();
    let mut out = Vec::with_capacity(HEADER + body_len);
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&(body_len as u32).to_be_bytes());
    out.extend_from_slice(&[0; 32]);
    out.extend_from_slice(&(events.len() as u32).to_be_bytes());
    for (_, stored) in events {
        out.extend_from_slice(&(stored.len() as u32).to_be_bytes());
        out.extend_from_slice(stored);
    }
    out.extend_from_slice(&(keys.len() as u32).to_be_bytes());
    for (key, value) in keys {
        out.extend_from_slice(&(key.len() as u32).to_be_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(value); // first position (u64) ‖ count (u32)
    }
    let digest: [u8; 32] = Sha256::digest(&out[HEADER..]).into();
    out[8..HEADER].copy_from_slice(&digest);
    out
}

/// Decodes records up to the first one that is incomplete or damaged; returns them and the length
/// of the good prefix.
pub(crate) fn decode_records(bytes: &[u8]) -> (Vec<WalBatch>, usize) {
    let mut batches = Vec::new();
    let mut at = 0;
    while let Some((batch, next)) = decode_record(bytes, at) {
        batches.push(batch);
        at = next;
    }
    (batches, at)
}

fn decode_record(bytes: &[u8], at: usize) -> Option<(WalBatch, usize)> {
    let header = bytes.get(at..at + HEADER)?;
    if u32::from_be_bytes(header[..4].try_into().ok()?) != MAGIC {
        return None;
    }
    let body_len = u32::from_be_bytes(header[4..8].try_into().ok()?) as usize;
    let body = bytes.get(at + HEADER..at + HEADER + body_len)?;
    let digest: [u8; 32] = Sha256::digest(body).into();
    if digest[..] != header[8..HEADER] {
        return None;
    }
    let mut r = body;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = (r.get(..n)?, r.get(n..)?);
        r = tail;
        Some(head)
    };
    // Capacities are capped by what the body can hold: a count is read from the file, and a
    // damaged or crafted one must not reserve gigabytes.
    let count = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
    let mut events = Vec::with_capacity(count.min(body_len / 4));
    for _ in 0..count {
        let len = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
        events.push(take(len)?.to_vec());
    }
    let count = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
    let mut keys = Vec::with_capacity(count.min(body_len / 16));
    for _ in 0..count {
        let len = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
        let key = take(len)?.to_vec();
        let first = u64::from_be_bytes(take(8)?.try_into().ok()?);
        let n = u32::from_be_bytes(take(4)?.try_into().ok()?);
        keys.push((key, first, n));
    }
    Some((WalBatch { events, keys }, at + HEADER + body_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Entries = Vec<(IVec, IVec)>;

    fn record(n: u8) -> (Entries, Entries) {
        let events = vec![(IVec::from(&[n][..]), IVec::from(vec![n; 100 + n as usize]))];
        let mut value = 7u64.to_be_bytes().to_vec();
        value.extend_from_slice(&1u32.to_be_bytes());
        (events, vec![(IVec::from(&b"key"[..]), IVec::from(value))])
    }

    #[test]
    fn records_read_back_and_a_torn_tail_is_dropped() {
        let (a_events, a_keys) = record(1);
        let (b_events, b_keys) = record(2);
        let a = encode_record(&a_events, &a_keys);
        let b = encode_record(&b_events, &b_keys);
        let mut bytes = [a.clone(), b.clone()].concat();
        let (batches, valid) = decode_records(&bytes);
        assert_eq!(batches.len(), 2);
        assert_eq!(valid, bytes.len());
        assert_eq!(batches[1].events[0], vec![2; 102]);
        assert_eq!(batches[0].keys[0], (b"key".to_vec(), 7, 1));

        // Every cut inside the second record leaves exactly the first.
        for cut in a.len()..bytes.len() {
            let (batches, valid) = decode_records(&bytes[..cut]);
            assert_eq!((batches.len(), valid), (1, a.len()), "cut at {cut}");
        }
        // A flipped bit in the second record's body is caught by its digest.
        let last = bytes.len() - 20;
        bytes[last] ^= 1;
        assert_eq!(decode_records(&bytes).0.len(), 1);
    }
}
