//! The write-ahead file that makes a batch durable with one device round trip.
//!
//! sled's `flush` writes its buffer and waits on `sync_file_range`, and a real `fdatasync` must
//! follow it to empty the device's write cache (sled issue #1452): two waits on the device per
//! batch. Instead, the writer writes the batch's stored events as one record to `ledger.wal` and
//! calls `fdatasync` on that file once: the batch is then durable and is acknowledged. The same
//! batch is applied to sled's trees in memory; sled writes it out in the background, and every few
//! MiB a *checkpoint* (sled flush, fdatasync of sled's data file) bounds what recovery must replay,
//! after which the next record goes at the start of this file again. Opening the ledger rebuilds
//! from here everything after the last checkpoint, checking the hash chain on the way, then
//! checkpoints.
//!
//! The file is written in place, never truncated: it grows in zero-filled chunks until it holds a
//! checkpoint's worth, and from then on records overwrite blocks it already owns. An `fdatasync`
//! then has only data to flush, no file size or block map for the file system's journal to commit:
//! on the benchmark machine (ext4 mounted with `discard`) a journal commit could wait hundreds of
//! milliseconds behind the trimming of freed blocks, and the file's own truncation at each
//! checkpoint freed 8 MiB to trim (`docs/decisions/write-ahead-file-in-place.md`).
//!
//! While the writer waits on that `fdatasync`, an applier thread applies the same batch to sled's
//! memory (see `writer.rs`): an append costs about one device round trip, not one plus sled's CPU
//! time.
//!
//! Record layout: `magic (u32 BE) ‖ body length (u32 BE) ‖ SHA-256(body) ‖ body`, where the body is
//! `event count (u32) ‖ (length (u32) ‖ stored event)* ‖ key count (u32) ‖ (length (u32) ‖ key ‖
//! first position (u64) ‖ count (u32))*`. A record cut short by a crash fails its length or its
//! digest; it was never acknowledged, and reading stops there. Records left from before the last
//! checkpoint may follow the current ones; their positions are all at or before the checkpoint,
//! which is how recovery passes over them.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use sha2::{Digest, Sha256};
use sled::IVec;

use crate::error::LedgerError;

/// The file's name in the data folder.
pub const FILE: &str = "ledger.wal";

const MAGIC: u32 = 0x4346_5741; // "CFWA"
const HEADER: usize = 4 + 4 + 32;

/// Checkpoint once the file holds this much, so recovery after a crash stays short.
pub(crate) const CHECKPOINT_BYTES: u64 = 8 * 1024 * 1024;

/// The file grows by this much at a time, written as zeros ahead of the records.
const CHUNK: u64 = 1024 * 1024;

/// Appends are refused while the file system has less than this free: room for sled to write out
/// what it holds in memory (its buffers are 512 KiB segments) and to checkpoint. Records go into
/// space the file already holds, so without this check sled, not this file, would meet a full
/// disk first, and sled 0.34 fails every later write after one failed write of its own.
pub(crate) const RESERVE_BYTES: u64 = 4 * 1024 * 1024;

pub(crate) struct Wal {
    file: File,
    /// Bytes of complete, synced records from the start of the file.
    len: u64,
    /// Bytes written, of which the tail beyond `len` awaits its sync.
    written: u64,
    /// The file's length: records, then zeros or records from before the last checkpoint.
    allocated: u64,
}

/// One batch read back from the file.
pub(crate) struct WalBatch {
    /// Stored events (`prev_hash ‖ hash ‖ canonical bytes`), in position order.
    pub(crate) events: Vec<Vec<u8>>,
    /// Idempotency entries: key -> (first position, count).
    pub(crate) keys: Vec<(Vec<u8>, u64, u32)>,
}

/// What [`Wal::scan`] found in the file.
pub(crate) struct Scan {
    /// Whether the file is there.
    pub(crate) existed: bool,
    /// The file's length in bytes.
    pub(crate) len: u64,
    /// Every intact record, in file order: first those from the start of the file up to the
    /// first that is incomplete or damaged, then any found past that point.
    pub(crate) records: Vec<Record>,
    /// Where the intact records from the start of the file end.
    pub(crate) end: u64,
}

/// One intact record and where it starts in the file.
pub(crate) struct Record {
    pub(crate) offset: u64,
    pub(crate) batch: WalBatch,
}

impl Wal {
    /// Reads what the file in `dir` holds, changing nothing (a missing file is an empty scan).
    pub(crate) fn scan(dir: &Path) -> Result<Scan, LedgerError> {
        let bytes = match std::fs::read(dir.join(FILE)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Scan {
                    existed: false,
                    len: 0,
                    records: Vec::new(),
                    end: 0,
                })
            }
            Err(e) => return Err(e.into()),
        };
        let mut records = Vec::new();
        let mut end = 0;
        while let Some((batch, next)) = decode_record(&bytes, end) {
            records.push(Record {
                offset: end as u64,
                batch,
            });
            end = next;
        }
        records.extend(scan_beyond(&bytes, end));
        Ok(Scan {
            existed: true,
            len: bytes.len() as u64,
            records,
            end: end as u64,
        })
    }

    /// Opens (or creates) the file in `dir`; the next record goes at its start. The caller syncs
    /// `dir` if the file is new.
    pub(crate) fn open(dir: &Path) -> Result<Wal, LedgerError> {
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(dir.join(FILE))?;
        let allocated = file.metadata()?.len();
        Ok(Wal {
            file,
            len: 0,
            written: 0,
            allocated,
        })
    }

    /// The file's length: it only grows (see [`Wal::allocate`]), so a checkpoint records it
    /// and an open that finds the file shorter knows it was cut back or replaced.
    pub(crate) fn allocated(&self) -> u64 {
        self.allocated
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Writes one batch's record into the page cache, after the last one written; [`Wal::sync`]
    /// makes it durable. An error means nothing usable was written, and later appends may
    /// succeed (a full disk that is freed, say): a failed write leaves at most a partial record,
    /// which fails its digest and which the next record overwrites.
    pub(crate) fn write(
        &mut self,
        events: &[(IVec, IVec)],
        keys: &[(IVec, IVec)],
    ) -> Result<(), LedgerError> {
        self.check_space()?;
        let record = encode_record(events, keys);
        let end = self.written + record.len() as u64;
        self.allocate(end)?;
        self.file.write_all_at(&record, self.written)?;
        self.written = end;
        Ok(())
    }

    /// Refuses when the file system is nearly full (see [`RESERVE_BYTES`]). A file system that
    /// cannot say is not checked.
    fn check_space(&self) -> Result<(), LedgerError> {
        let Ok(stat) = rustix::fs::fstatvfs(&self.file) else {
            return Ok(());
        };
        let free = stat.f_bavail.saturating_mul(stat.f_frsize);
        if free < RESERVE_BYTES {
            return Err(LedgerError::NoSpace(format!(
                "{} KiB free on the data folder's file system; councilflow keeps {} MiB free so \
                 that its database can always write out what it holds",
                free / 1024,
                RESERVE_BYTES >> 20
            )));
        }
        Ok(())
    }

    /// Makes the file at least `end` bytes long by writing zeros, a [`CHUNK`] at a time. Records
    /// then overwrite blocks the file already holds, so the `fdatasync` after each one has no
    /// file size or block allocation to commit to the file system's journal: it waits for the
    /// data alone, and not behind the journal (where ext4 mounted with `discard` also trims
    /// freed blocks, which stalled appends for hundreds of milliseconds on the benchmark disk).
    fn allocate(&mut self, end: u64) -> Result<(), LedgerError> {
        if end <= self.allocated {
            return Ok(());
        }
        let target = end.div_ceil(CHUNK) * CHUNK;
        let zeros = vec![0u8; (target - self.allocated) as usize];
        if let Err(e) = self.file.write_all_at(&zeros, self.allocated) {
            // Give back what part of the chunk was written: on a full disk every block counts.
            let _ = self.file.set_len(self.allocated);
            return Err(e.into());
        }
        self.allocated = target;
        Ok(())
    }

    /// fdatasync: everything written so far is on stable storage when this returns `Ok`.
    pub(crate) fn sync(&mut self) -> Result<(), LedgerError> {
        self.file.sync_data()?;
        self.len = self.written;
        Ok(())
    }

    /// Ends the current generation of records: called only once sled's own file holds
    /// everything in it durably. The first record's header is overwritten with zeros and synced,
    /// so recovery finds no current generation to re-apply (see `recovery.rs`), and the next
    /// record goes at the start of the file again. The older records stay until overwritten;
    /// recovery recognises them as checkpointed. Neither the file's length nor its blocks
    /// change, so this frees nothing for the file system to trim.
    pub(crate) fn restart(&mut self) -> Result<(), LedgerError> {
        if self.allocated >= HEADER as u64 {
            self.file.write_all_at(&[0; HEADER], 0)?;
            self.file.sync_data()?;
        }
        self.len = 0;
        self.written = 0;
        Ok(())
    }
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

/// Intact records past `from`, where the good prefix ended: searched for by their magic number,
/// each checked by its length and digest (a match inside a payload's text fails both), and read
/// on from each one found.
fn scan_beyond(bytes: &[u8], from: usize) -> Vec<Record> {
    let magic = MAGIC.to_be_bytes();
    let mut found = Vec::new();
    let mut at = from + 1;
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.windows(4).position(|w| w == magic))
    {
        let start = at + offset;
        match decode_record(bytes, start) {
            Some((batch, next)) => {
                found.push(Record {
                    offset: start as u64,
                    batch,
                });
                at = next;
            }
            None => at = start + 1,
        }
    }
    found
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
