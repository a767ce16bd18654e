//! Property tests of the definition loaders (the CI stand-in for fuzzing them): `Workflows::load`
//! and `load_seeds` on arbitrary text and on mutated copies of the shipped TOML files return an
//! error or a value, never panic.

use councilflow_governance::{load_seeds, Workflows};
use proptest::prelude::*;

use crate::common::{read_dir, SEEDS, WORKFLOWS};

/// One edit of a text: what a fuzzer would do to it.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove the bytes in [at, at + len) (at char boundaries).
    Delete(usize, usize),
    /// Insert a string at a position.
    Insert(usize, String),
    /// Replace the char at a position.
    Replace(usize, char),
    /// Duplicate a line.
    DuplicateLine(usize),
    /// Swap two lines.
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fragments = prop_oneof![
        Just("=".to_owned()),
        Just("[[".to_owned()),
        Just("]]".to_owned()),
        Just("\"".to_owned()),
        Just("\n[[stages]]\nid = \"x\"\n".to_owned()),
        Just("\n[[routes]]\nid = \"r\"\nstages = [\"x\", \"x\"]\n".to_owned()),
        Just("due = \"submission - 99999999999 days\"\n".to_owned()),
        Just("roles = []\n".to_owned()),
        Just("{ role = \"reader\" }".to_owned()),
        Just("9999999999999999999999".to_owned()),
        Just("-1".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        Just("\u{0}".to_owned()),
        Just("é\u{202e}".to_owned()),
        "[ -~\n]{0,40}",
        any::<String>(),
    ];
    prop_oneof![
        (any::<usize>(), 1usize..64).prop_map(|(a, l)| Mutation::Delete(a, l)),
        (any::<usize>(), fragments).prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), any::<char>()).prop_map(|(a, c)| Mutation::Replace(a, c)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, m: &Mutation) -> String {
    match m {
        Mutation::Delete(at, len) => {
            let start = boundary(text, *at);
            let end = boundary(text, (start + len).min(text.len()));
            let end = end.max(start);
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Insert(at, s) => {
            let at = boundary(text, *at);
            format!("{}{s}{}", &text[..at], &text[at..])
        }
        Mutation::Replace(at, c) => {
            let at = boundary(text, *at);
            let mut rest = text[at..].chars();
            rest.next();
            format!("{}{c}{}", &text[..at], rest.as_str())
        }
        Mutation::DuplicateLine(n) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let i = n % lines.len();
                lines.insert(i, lines[i]);
            }
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
            }
            lines.join("\n")
        }
    }
}

/// The shipped files of `dir`, with one of them (`which`, wrapped round) mutated.
fn mutated(dir: &str, which: usize, mutations: &[Mutation]) -> Vec<(String, String)> {
    let mut files = read_dir(dir);
    let i = which % files.len();
    for m in mutations {
        files[i].1 = apply(&files[i].1, m);
    }
    files
}

fn load_workflows(files: &[(String, String)]) {
    let _ = Workflows::load(files.iter().map(|(f, t)| (f.as_str(), t.as_str())));
}

fn load_org(files: &[(String, String)]) {
    let _ = load_seeds(files.iter().map(|(f, t)| (f.as_str(), t.as_str())));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn workflows_load_never_panics_on_arbitrary_text(text in any::<String>(), ascii in "[ -~\n]{0,400}") {
        load_workflows(&[("a.toml".to_owned(), text)]);
        load_workflows(&[("b.toml".to_owned(), ascii)]);
    }

    #[test]
    fn load_seeds_never_panics_on_arbitrary_text(text in any::<String>(), ascii in "[ -~\n]{0,400}") {
        load_org(&[("a.toml".to_owned(), text)]);
        load_org(&[("b.toml".to_owned(), ascii)]);
    }

    #[test]
    fn workflows_load_never_panics_on_mutated_shipped_files(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        load_workflows(&mutated(WORKFLOWS, which, &mutations));
    }

    #[test]
    fn load_seeds_never_panics_on_mutated_shipped_files(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        load_org(&mutated(SEEDS, which, &mutations));
    }
}

#[test]
fn the_shipped_files_load_unmutated() {
    Workflows::load(
        read_dir(WORKFLOWS)
            .iter()
            .map(|(f, t)| (f.as_str(), t.as_str())),
    )
    .expect("the shipped workflows load");
    let seeds = read_dir(SEEDS);
    load_seeds(seeds.iter().map(|(f, t)| (f.as_str(), t.as_str())))
        .expect("the shipped seeds load");
}
