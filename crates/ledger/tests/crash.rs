//! Kill -9 at random moments: every acknowledged event survives, byte for byte, and the chain
//! verifies.
//!
//! A child process (`ledger-torture`) appends from several concurrent writers and prints each
//! acknowledged event. The test kills it with SIGKILL at a random moment, reopens the data folder,
//! and checks every event ever acknowledged, across all rounds so far. Rounds: 20 by default,
//! `LEDGER_CRASH_ROUNDS` for more.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use councilflow_ledger::{Config, Hash, Ledger};

struct Ack {
    hash: Hash,
    stream: String,
    version: u64,
}

fn parse(line: &str) -> Option<(u64, Ack)> {
    let mut parts = line.split(' ');
    if parts.next()? != "ack" {
        return None;
    }
    let position = parts.next()?.parse().ok()?;
    let hash = Hash::from_hex(parts.next()?).ok()?;
    let stream = parts.next()?.to_owned();
    let version = parts.next()?.parse().ok()?;
    Some((
        position,
        Ack {
            hash,
            stream,
            version,
        },
    ))
}

#[test]
fn every_acknowledged_event_survives_sigkill_and_the_chain_verifies() {
    let rounds: usize = std::env::var("LEDGER_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let mut acked: BTreeMap<u64, Ack> = BTreeMap::new();
    let mut recovered_rounds = 0;
    let mut rng = fastrand::Rng::with_seed(
        std::env::var("LEDGER_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| fastrand::u64(..)),
    );

    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-torture"))
            .arg(dir.path())
            .arg("8")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ledger-torture");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // A line cut short by the kill does not parse and is not a promise.
                if let Some(ack) = parse(&line) {
                    if tx.send(ack).is_err() {
                        break;
                    }
                }
            }
        });

        // Wait until the child is writing, then let it run a random while before the kill.
        let started = Instant::now();
        let mut this_round = Vec::new();
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(ack) => this_round.push(ack),
            Err(_) => panic!("round {round}: the child acknowledged nothing within a minute"),
        }
        std::thread::sleep(Duration::from_millis(rng.u64(0..400)));
        child.kill().expect("SIGKILL the child");
        child.wait().unwrap();
        reader.join().unwrap();
        this_round.extend(rx.try_iter());
        assert!(started.elapsed() < Duration::from_secs(120));
        let count = this_round.len();
        for (position, ack) in this_round {
            acked.insert(position, ack);
        }

        let ledger = Ledger::open(Config::new(dir.path()))
            .unwrap_or_else(|e| panic!("round {round}: reopening after SIGKILL failed: {e}"));
        // Events sled had not written out, rebuilt from the write-ahead file.
        recovered_rounds += usize::from(ledger.recovered_at_open() > 0);
        let report = ledger
            .verify()
            .unwrap_or_else(|e| panic!("round {round}: the chain does not verify: {e}"));
        for (&position, ack) in &acked {
            let event = ledger
                .event(position)
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: acknowledged position {position} lost"));
            assert_eq!(
                event.hash, ack.hash,
                "round {round}: position {position} changed"
            );
            assert_eq!(event.computed_hash(), event.hash);
            assert_eq!(
                (event.stream.as_str(), event.version),
                (ack.stream.as_str(), ack.version)
            );
        }
        eprintln!(
            "round {round}: {count} acknowledged this round, {} in all, {} in the log",
            acked.len(),
            report.events
        );
        ledger.shutdown();
    }
    assert!(!acked.is_empty());
    assert!(
        recovered_rounds > 0,
        "no round left a write-ahead file to recover: the test did not exercise recovery"
    );
}
