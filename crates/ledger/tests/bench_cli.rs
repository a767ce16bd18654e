//! `ledger-bench`'s command line: help and mistakes are answered at once. Before it used clap,
//! `--help` (or any unknown option) started the full benchmark: minutes, and a gigabyte written.

use std::process::{Command, Output};

fn ledger_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ledger-bench"))
        .args(args)
        .output()
        .expect("ledger-bench runs")
}

#[test]
fn help_lists_the_options_and_runs_nothing() {
    let out = ledger_bench(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--quick",
        "--writers",
        "--raw",
        "--rate",
        "--dir",
        "--latencies",
    ] {
        assert!(
            help.contains(option),
            "{option} is missing from the help:\n{help}"
        );
    }
    assert!(
        !help.contains("--million-child"),
        "the internal option stays hidden"
    );
}

#[test]
fn an_unknown_option_is_refused_with_exit_status_2() {
    let out = ledger_bench(&["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bogus"));
}

#[test]
fn slice_mode_without_a_folder_says_it_needs_dir() {
    for args in [
        &["--raw"][..],
        &["--writers", "1"],
        &["--raw", "--rate", "200"],
    ] {
        let out = ledger_bench(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--dir"),
            "{args:?} names --dir"
        );
    }
}

#[test]
fn a_paced_raw_slice_prints_its_figures_as_json() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = ledger_bench(&[
        "--raw",
        "--rate",
        "100",
        "--seconds",
        "0.2",
        "--dir",
        dir.path().to_str().expect("a UTF-8 path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert!(summary["raw"]["count"].as_u64().expect("a count") > 0);
}
