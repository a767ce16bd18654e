//! The ledger's decoders of bytes read from disk or from an export: a stored record, write-ahead
//! records, and an export file. Each gives a value or an error; never a panic, never a huge
//! allocation from a length read out of the bytes.
#![no_main]

use councilflow_ledger::fuzzing::{decode_stored, decode_wal, stored_hash_matches};
use councilflow_ledger::verify_export;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_stored(data);
    let _ = stored_hash_matches(data);
    let good = decode_wal(data);
    assert!(good <= data.len());
    let _ = verify_export(data);
});
