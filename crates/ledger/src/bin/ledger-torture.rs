//! The crash test's child process: appends from several concurrent writers until it is killed,
//! printing one line per acknowledged event: `ack <position> <hash> <stream> <version>`.
//!
//! Usage: `ledger-torture <data-dir> [writers]`. A line is printed only after `append` returned,
//! so every printed line is a promise the ledger must keep across a SIGKILL.

use std::io::Write;
use std::sync::{Arc, Mutex};

use councilflow_ledger::{Config, ExpectedVersion, Ledger, NewEvent};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: ledger-torture <data-dir> [writers]");
    let writers: usize = args
        .next()
        .map_or(8, |w| w.parse().expect("writers is a number"));
    let ledger = Ledger::open(Config::new(dir)).expect("open the ledger");
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let ledger = ledger.clone();
            let out = out.clone();
            std::thread::spawn(move || {
                let mut rng = fastrand::Rng::new();
                for n in 0u64.. {
                    let stream = format!("stream-{}", rng.usize(0..40));
                    let count = rng.usize(1..4);
                    let events = (0..count)
                        .map(|i| {
                            let pad = "x".repeat(rng.usize(0..600));
                            NewEvent::new(
                                "Tortured",
                                format!("writer-{w}"),
                                &serde_json::json!({ "w": w, "n": n, "i": i, "pad": pad }),
                            )
                            .expect("a valid event")
                        })
                        .collect();
                    // Every fourth append carries an idempotency key, to keep that index busy.
                    let key = (n % 4 == 0).then(|| format!("w{w}-n{n}-{}", rng.u64(..)));
                    let appended = ledger
                        .append_blocking(&stream, ExpectedVersion::Any, events, key.as_deref())
                        .expect("append");
                    let mut out = out.lock().expect("stdout lock");
                    for e in &appended.events {
                        writeln!(
                            out,
                            "ack {} {} {} {}",
                            e.position, e.hash, e.stream, e.version
                        )
                        .expect("stdout");
                    }
                    out.flush().expect("stdout");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
}
