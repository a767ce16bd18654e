//! What the in-process api tests share: the service's settings over the repository's own
//! workflow and seed files, on a data folder of the test's.

use std::path::Path;

use councilflow_api::Settings;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// `(file name, text)` of every `*.toml` in a folder of the repository, sorted.
fn files(dir: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(format!("{ROOT}/{dir}"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Settings for a service on `data` with the shipped workflows and seeds.
pub fn settings(data: &Path) -> Settings {
    Settings {
        data: data.to_owned(),
        workflows: files("workflows"),
        seeds: files("seeds"),
    }
}
