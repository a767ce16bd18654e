//! Property test of `verify_export` (the CI stand-in for fuzzing the export reader): mutated
//! export lines — bytes changed, lines cut, dropped, swapped, duplicated or replaced by other JSON —
//! give a report or an error, never a panic; and an unmutated export verifies.

use std::sync::OnceLock;

use councilflow_ledger::{verify_export, Config, ExpectedVersion, Ledger, NewEvent};
use proptest::prelude::*;
use serde_json::json;

/// A valid export of a small ledger, made once.
fn export() -> &'static Vec<u8> {
    static EXPORT: OnceLock<Vec<u8>> = OnceLock::new();
    EXPORT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(Config::new(dir.path())).unwrap();
        for n in 0..12u64 {
            let event = NewEvent::new(
                "SectionEdited",
                "ravi-patel",
                &json!({ "n": n, "text": "Barriers: £15.7m, single-year settlements", "x": 1.5 }),
            )
            .unwrap();
            ledger
                .append_blocking(
                    &format!("plan-{}", n % 3),
                    ExpectedVersion::Any,
                    vec![event],
                    Some(&format!("key-{n}")),
                )
                .unwrap();
        }
        let mut out = Vec::new();
        ledger.export(&mut out).unwrap();
        ledger.shutdown();
        out
    })
}

#[derive(Debug, Clone)]
enum LineMutation {
    /// Set a byte of a line.
    Byte(usize, usize, u8),
    /// Cut a line short.
    Truncate(usize, usize),
    Drop(usize),
    Duplicate(usize),
    Swap(usize, usize),
    /// Replace a line with other text.
    Replace(usize, String),
    /// Change a JSON field of a line to another value.
    Field(usize, usize, serde_json::Value),
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)),
        any::<String>().prop_map(serde_json::Value::from),
        "[0-9a-f]{0,70}".prop_map(serde_json::Value::from),
        Just(json!({ "nested": [1, 2, { "a": null }] })),
        Just(json!("2024-07-19T16:00:00.000000Z")),
        Just(json!("not-a-uuid")),
    ]
}

fn line_mutation() -> impl Strategy<Value = LineMutation> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), any::<u8>())
            .prop_map(|(l, i, b)| LineMutation::Byte(l, i, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(l, n)| LineMutation::Truncate(l, n)),
        any::<usize>().prop_map(LineMutation::Drop),
        any::<usize>().prop_map(LineMutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| LineMutation::Swap(a, b)),
        (
            any::<usize>(),
            prop_oneof![
                any::<String>(),
                Just("{}".to_owned()),
                Just("[]".to_owned()),
                Just("null".to_owned()),
                Just(String::new()),
                Just("{\"position\": 18446744073709551615}".to_owned()),
            ]
        )
            .prop_map(|(l, s)| LineMutation::Replace(l, s)),
        (any::<usize>(), any::<usize>(), json_value())
            .prop_map(|(l, f, v)| LineMutation::Field(l, f, v)),
    ]
}

fn apply(lines: &mut Vec<Vec<u8>>, m: &LineMutation) {
    if lines.is_empty() {
        return;
    }
    let n = lines.len();
    match m {
        LineMutation::Byte(l, i, b) => {
            let line = &mut lines[l % n];
            if !line.is_empty() {
                let i = i % line.len();
                line[i] = *b;
            }
        }
        LineMutation::Truncate(l, k) => {
            let line = &mut lines[l % n];
            let k = k % (line.len() + 1);
            line.truncate(k);
        }
        LineMutation::Drop(l) => {
            lines.remove(l % n);
        }
        LineMutation::Duplicate(l) => {
            let line = lines[l % n].clone();
            lines.insert(l % n, line);
        }
        LineMutation::Swap(a, b) => lines.swap(a % n, b % n),
        LineMutation::Replace(l, s) => lines[l % n] = s.clone().into_bytes(),
        LineMutation::Field(l, f, v) => {
            let line = &mut lines[l % n];
            if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice(line) {
                if !map.is_empty() {
                    let key = map.keys().nth(f % map.len()).unwrap().clone();
                    map.insert(key, v.clone());
                    *line = serde_json::to_vec(&map).unwrap();
                }
            }
        }
    }
}

#[test]
fn the_unmutated_export_verifies() {
    let report = verify_export(&export()[..]).expect("a fresh export verifies");
    assert_eq!(report.events, 12);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn mutated_exports_never_panic(mutations in prop::collection::vec(line_mutation(), 1..5)) {
        let mut lines: Vec<Vec<u8>> = export()
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        for m in &mutations {
            apply(&mut lines, m);
        }
        let mut text = lines.join(&b'\n');
        text.push(b'\n');
        let _ = verify_export(&text[..]);
    }

    #[test]
    fn arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = verify_export(&bytes[..]);
    }
}
