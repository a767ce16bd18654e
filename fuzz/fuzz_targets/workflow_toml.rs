//! The workflow and seed loaders on arbitrary text: an error naming the file and line, or a
//! value; never a panic, never a hang.
#![no_main]

use councilflow_governance::{load_seeds, Workflows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Workflows::load([("fuzz.toml", text)]) {
        // Every refusal names the file it is about.
        assert!(e.to_string().contains("fuzz.toml"), "{e}");
    }
    let _ = load_seeds([("fuzz.toml", text)]);
});
