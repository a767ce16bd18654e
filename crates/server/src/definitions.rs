//! Workflow and seed files: read from a folder, or the copies embedded in the binary.
//!
//! The embedded copies make `cargo run --release -- serve` work from anywhere: when the default
//! folder (`./workflows`, `./seeds`) does not exist, the files shipped with this build are used.
//! A folder given explicitly must exist.

use std::path::Path;

use anyhow::{bail, Context};

/// `(file name, text)` pairs.
pub type Files = Vec<(String, String)>;

const EMBEDDED_WORKFLOWS: &[(&str, &str)] = &[
    (
        "productivity-plan-2024.toml",
        include_str!("../../../workflows/productivity-plan-2024.toml"),
    ),
    (
        "peer-challenge-action-plan.toml",
        include_str!("../../../workflows/peer-challenge-action-plan.toml"),
    ),
];

const EMBEDDED_SEEDS: &[(&str, &str)] = &[
    (
        "councils.toml",
        include_str!("../../../seeds/councils.toml"),
    ),
    ("people.toml", include_str!("../../../seeds/people.toml")),
];

/// Where a set of definitions came from, for the start-up message.
pub enum Source {
    Folder(String),
    Embedded,
}

/// Reads every `*.toml` file in `dir`, or the embedded set when `dir` is the default and absent.
pub fn load(dir: &Path, is_default: bool, kind: Kind) -> anyhow::Result<(Files, Source)> {
    if !dir.exists() {
        if is_default {
            let embedded = match kind {
                Kind::Workflows => EMBEDDED_WORKFLOWS,
                Kind::Seeds => EMBEDDED_SEEDS,
            };
            return Ok((
                embedded
                    .iter()
                    .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
                    .collect(),
                Source::Embedded,
            ));
        }
        bail!(
            "the {} folder {} does not exist",
            kind.name(),
            dir.display()
        );
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    if files.is_empty() {
        bail!(
            "the {} folder {} holds no .toml files",
            kind.name(),
            dir.display()
        );
    }
    Ok((files, Source::Folder(dir.display().to_string())))
}

#[derive(Clone, Copy)]
pub enum Kind {
    Workflows,
    Seeds,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Workflows => "workflows",
            Kind::Seeds => "seeds",
        }
    }
}
