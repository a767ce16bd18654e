//! Export and import: the operator's way out if sled's files are ever damaged.
//!
//! An export is newline-delimited JSON. The first line is a header naming the format, the number of
//! events and the head hash (so a truncated file is detected); every further line is one event with
//! its hashes. The payload is embedded as the exact JSON text that was hashed, so the file can be
//! verified on its own: rebuild each event's canonical bytes (`event.rs` gives the layout),
//! hash them after the previous hash, compare. `verify_export` does exactly that, and `import`
//! does it on the way into a fresh data folder.

use std::io::{BufRead, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sled::IVec;
use uuid::Uuid;

use crate::error::LedgerError;
use crate::event::{Hash, StoredEvent};
use crate::ledger::{Config, Ledger};
use crate::lock::DataLock;
use crate::trees::{
    commit_batch, encode_idempotency, last_event, stream_key, Trees, IMPORT_IN_PROGRESS,
};
use crate::verify::{ChainCheck, VerifyReport};
use crate::wal::Wal;

const FORMAT: &str = "councilflow-ledger-export";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    events: u64,
    head_hash: String,
}

#[derive(Serialize, Deserialize)]
struct Line {
    position: u64,
    stream: String,
    version: u64,
    id: Uuid,
    kind: String,
    at: String,
    actor: String,
    payload: Box<RawValue>,
    prev_hash: String,
    hash: String,
    /// On the first event of a batch appended with an idempotency key: the key and the batch size,
    /// so an imported ledger still recognises retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    idempotency_count: Option<u32>,
}

impl Ledger {
    /// Writes every durable event as NDJSON (a header line, then one line per event). Works while
    /// the ledger is in use: it exports the events durable when it starts.
    pub fn export(&self, out: &mut impl Write) -> Result<VerifyReport, LedgerError> {
        let head = self.head();
        let keys = self.idempotency_index()?;
        let header = Header {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            events: head.position,
            head_hash: head.hash.to_hex(),
        };
        serde_json::to_writer(&mut *out, &header).map_err(io_error)?;
        out.write_all(b"\n")?;
        let mut chain = ChainCheck::new();
        let mut from = 1;
        while from <= head.position {
            let page = self.read_all(from, 4096)?;
            for event in page
                .events
                .into_iter()
                .take_while(|e| e.position <= head.position)
            {
                chain.check(&event).map_err(|reason| LedgerError::Corrupt {
                    position: event.position,
                    reason,
                })?;
                let key = keys.get(&event.position);
                let line = Line {
                    position: event.position,
                    at: event.at_rfc3339(),
                    // The payload was checked as JSON on the way in; RawValue keeps its bytes.
                    payload: RawValue::from_string(event.payload).map_err(|e| {
                        LedgerError::Corrupt {
                            position: event.position,
                            reason: format!("payload is not JSON: {e}"),
                        }
                    })?,
                    stream: event.stream,
                    version: event.version,
                    id: event.id,
                    kind: event.kind,
                    actor: event.actor,
                    prev_hash: event.prev_hash.to_hex(),
                    hash: event.hash.to_hex(),
                    idempotency_key: key.map(|(k, _)| k.clone()),
                    idempotency_count: key.map(|&(_, n)| n),
                };
                serde_json::to_writer(&mut *out, &line).map_err(io_error)?;
                out.write_all(b"\n")?;
                from = line.position + 1;
            }
            if page.next.is_none() {
                break;
            }
        }
        out.flush()?;
        Ok(chain.report())
    }

    /// Imports an export into `config.path`, which must not exist or be empty. The chain is checked
    /// line by line; a bad file leaves a folder that refuses to open and says so.
    pub fn import(config: Config, input: impl BufRead) -> Result<VerifyReport, LedgerError> {
        let path = &config.path;
        if path.exists() && path.read_dir()?.next().is_some() {
            return Err(LedgerError::Invalid(format!(
                "{} is not empty; import needs a fresh data folder",
                path.display()
            )));
        }
        crate::durable::create_dir_all(path)?;
        let _lock = DataLock::acquire(path)?;
        let trees = Trees::open(&config)?;
        trees.meta.insert(IMPORT_IN_PROGRESS, &[])?;
        trees.db.flush()?;

        const CHUNK: usize = 10_000;
        let mut log = Vec::with_capacity(CHUNK);
        let mut streams = Vec::with_capacity(CHUNK);
        let mut keys = Vec::new();
        let report = read_export(input, |event, key| {
            if let Some((key, count)) = key {
                keys.push((
                    IVec::from(key.as_bytes()),
                    encode_idempotency(event.position, count),
                ));
            }
            streams.push((
                IVec::from(stream_key(&event.stream, event.version)),
                IVec::from(&event.position.to_be_bytes()[..]),
            ));
            log.push((
                IVec::from(&event.position.to_be_bytes()[..]),
                IVec::from(event.encode_stored()),
            ));
            if log.len() >= CHUNK {
                commit_batch(&trees, &log, &streams, &keys)?;
                log.clear();
                streams.clear();
                keys.clear();
            }
            Ok(())
        })?;
        commit_batch(&trees, &log, &streams, &keys)?;
        trees.db.flush()?;
        trees.data_file.sync_data()?;
        // An empty write-ahead file: a folder whose database holds events and that has none is
        // one whose file went missing, which opening refuses.
        drop(Wal::open(path)?);
        crate::durable::sync_dir(path)?;
        // Only now is the folder complete; removing the marker is the import's commit point.
        trees.meta.remove(IMPORT_IN_PROGRESS)?;
        trees.db.flush()?;
        trees.data_file.sync_data()?;
        debug_assert_eq!(
            last_event(&trees.log)?.map(|e| e.position).unwrap_or(0),
            report.events
        );
        Ok(report)
    }
}

/// Checks an export file on its own, without a database: header, every hash, positions and
/// stream versions without gaps, and that it ends at the head the header promised.
pub fn verify_export(input: impl BufRead) -> Result<VerifyReport, LedgerError> {
    read_export(input, |_, _| Ok(()))
}

/// Checks an export file at a path (see [`verify_export`]).
pub fn verify_export_file(path: &Path) -> Result<VerifyReport, LedgerError> {
    verify_export(std::io::BufReader::new(std::fs::File::open(path)?))
}

/// Reads and checks an export, handing each event (and its batch's idempotency key) to `sink`.
fn read_export(
    input: impl BufRead,
    mut sink: impl FnMut(StoredEvent, Option<(String, u32)>) -> Result<(), LedgerError>,
) -> Result<VerifyReport, LedgerError> {
    let mut lines = input.lines();
    let bad = |line: u64, reason: String| LedgerError::BadExport { line, reason };
    let header_text = lines
        .next()
        .ok_or_else(|| bad(1, "the file is empty".into()))??;
    let header: Header = serde_json::from_str(&header_text)
        .map_err(|e| bad(1, format!("not an export header: {e}")))?;
    if header.format != FORMAT || header.version != FORMAT_VERSION {
        return Err(bad(
            1,
            format!(
                "format {:?} version {} is not {FORMAT:?} version {FORMAT_VERSION}",
                header.format, header.version
            ),
        ));
    }
    let mut chain = ChainCheck::new();
    let mut number = 1u64;
    for text in lines {
        number += 1;
        let text = text?;
        if text.is_empty() {
            continue;
        }
        let line: Line =
            serde_json::from_str(&text).map_err(|e| bad(number, format!("not an event: {e}")))?;
        let key = match (line.idempotency_key, line.idempotency_count) {
            (Some(k), Some(n)) if n > 0 => Some((k, n)),
            (None, None) => None,
            _ => return Err(bad(number, "idempotency key without a count".into())),
        };
        let at = DateTime::parse_from_rfc3339(&line.at)
            .map_err(|e| bad(number, format!("time {:?}: {e}", line.at)))?
            .with_timezone(&Utc);
        let event = StoredEvent {
            position: line.position,
            stream: line.stream,
            version: line.version,
            id: line.id,
            kind: line.kind,
            at,
            actor: line.actor,
            payload: line.payload.get().to_owned(),
            prev_hash: Hash::from_hex(&line.prev_hash).map_err(|e| bad(number, e.to_string()))?,
            hash: Hash::from_hex(&line.hash).map_err(|e| bad(number, e.to_string()))?,
        };
        chain
            .check(&event)
            .map_err(|reason| bad(number, format!("position {}: {reason}", event.position)))?;
        sink(event, key)?;
    }
    let report = chain.report();
    if report.events != header.events || report.head.hash.to_hex() != header.head_hash {
        return Err(bad(
            number,
            format!(
                "the file ends at position {} (hash {}) but its header promises {} events ending \
                 in {}: truncated or altered",
                report.events, report.head.hash, header.events, header.head_hash
            ),
        ));
    }
    Ok(report)
}

fn io_error(e: serde_json::Error) -> LedgerError {
    LedgerError::Storage(format!("writing the export failed: {e}"))
}
