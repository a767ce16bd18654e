//! The ledger benchmark: durable appends against the disk's own fdatasync limit, in one run.
//!
//! `cargo run --release -p councilflow-ledger --bin ledger-bench -- --quick` (under a minute) or
//! without `--quick` for the full run (adds 1,000,000 events: disk size, peak RSS, replay).
//! `--dir PATH` picks the folder (default: a temporary folder under the current directory, so
//! the baseline and the ledger share a disk). It prints a table, then one JSON object as its last
//! line. Figures are medians and percentiles of this run; compare them as ratios. `--help` lists
//! the options; an unknown one is refused (it used to start the full run).
//!
//! Slice mode, for `bench/run` (which interleaves it with PostgreSQL):
//! `ledger-bench --writers 1,16,64 --seconds S --dir DIR [--raw] [--latencies PREFIX]`
//! runs the raw fdatasync loop (with `--raw`) and then each writer count for S seconds against
//! ledgers kept in DIR (`DIR/cf-w<N>`, reopened on each call; the caller removes DIR), appends
//! each call's latency in microseconds, one a line, to `PREFIX-raw.txt` / `PREFIX-w<N>.txt`, and
//! prints one JSON object: `{"raw": {...}, "w1": {"count", "elapsed_s", "per_s", "p50_ms", "p99_ms",
//! "max_ms"}, ...}`.
//!
//! `ledger-bench --raw --rate R --seconds S --dir DIR` paces the raw loop instead: one 4 KiB
//! append and `fdatasync` every 1/R s, on a fixed schedule. It is the disk's own latency for one
//! small durable write at a request rate, the baseline `bench/run` puts next to a mutation's p99
//! at that rate: a stall of the device shows in both.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use councilflow_ledger::{Config, ExpectedVersion, Ledger, NewEvent, StoredEvent};

// glibc malloc spends more time than the ledger when a replay decodes a million events.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use serde_json::json;

const STREAMS: usize = 1_000;
const PAYLOAD_BYTES: usize = 300;

/// The bench's scratch folder, removed when the run ends.
struct Scratch(PathBuf);

impl Scratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Latencies(Vec<Duration>);

impl Latencies {
    fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.sort_unstable();
        let i = ((self.0.len() - 1) as f64 * p).round() as usize;
        self.0[i].as_secs_f64() * 1e3
    }
}

struct Run {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    count: usize,
}

fn summarise(mut latencies: Latencies, count: usize, elapsed: Duration) -> Run {
    Run {
        per_s: count as f64 / elapsed.as_secs_f64(),
        p50_ms: latencies.percentile_ms(0.50),
        p99_ms: latencies.percentile_ms(0.99),
        max_ms: latencies.percentile_ms(1.0),
        count,
    }
}

/// Latencies and elapsed time gathered over several slices of one measure.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Tally {
    fn add(&mut self, (latencies, elapsed): (Vec<Duration>, Duration)) {
        self.latencies.extend(latencies);
        self.elapsed += elapsed;
    }

    fn run(self) -> Run {
        let count = self.latencies.len();
        summarise(Latencies(self.latencies), count, self.elapsed)
    }
}

/// The physical limit: append 4 KiB to a file and fdatasync it, in a loop; with a `rate`, one
/// every 1/rate s on a fixed schedule (a sync that overruns its slot delays the next, which then
/// starts at once: the schedule is not reset, as a client's requests would not be).
fn raw_fsync(
    file: &mut std::fs::File,
    duration: Duration,
    rate: Option<f64>,
) -> (Vec<Duration>, Duration) {
    let block = vec![0xA5u8; 4096];
    let mut latencies = Vec::new();
    let start = Instant::now();
    while start.elapsed() < duration {
        if let Some(rate) = rate {
            let slot = start + Duration::from_secs_f64(latencies.len() as f64 / rate);
            std::thread::sleep(slot.saturating_duration_since(Instant::now()));
        }
        let t = Instant::now();
        file.write_all(&block).expect("write");
        file.sync_data().expect("fdatasync");
        latencies.push(t.elapsed());
    }
    (latencies, start.elapsed())
}

/// The runtime appends run on: two workers, one per core of the benchmark machine.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn payload(rng: &mut fastrand::Rng) -> serde_json::Value {
    // 300 bytes of JSON text, like a section edit.
    let filler: String = (0..PAYLOAD_BYTES - 40)
        .map(|_| rng.alphanumeric())
        .collect();
    json!({ "section": "barriers", "text": filler })
}

fn new_event(rng: &mut fastrand::Rng) -> NewEvent {
    NewEvent::new("SectionEdited", "bench", &payload(rng)).expect("a valid event")
}

/// `writers` concurrent tasks appending one event each per call, for `duration`.
fn appends(
    runtime: &tokio::runtime::Runtime,
    ledger: &Ledger,
    writers: usize,
    duration: Duration,
) -> (Vec<Duration>, Duration) {
    runtime.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let ledger = ledger.clone();
                tokio::spawn(async move {
                    let mut rng = fastrand::Rng::with_seed(w as u64);
                    let mut latencies = Vec::new();
                    while start.elapsed() < duration {
                        let stream = format!("plan-{}", rng.usize(0..STREAMS));
                        let event = new_event(&mut rng);
                        let t = Instant::now();
                        ledger
                            .append(&stream, ExpectedVersion::Any, vec![event], None)
                            .await
                            .expect("append");
                        latencies.push(t.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("writer task"));
        }
        (all, start.elapsed())
    })
}

/// Reads the whole log back into memory; events per second.
fn replay(ledger: &Ledger) -> (f64, usize) {
    let start = Instant::now();
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut from = 1;
    loop {
        let page = ledger.read_all(from, 4096).expect("read");
        events.extend(page.events);
        match page.next {
            Some(next) => from = next,
            None => break,
        }
    }
    let elapsed = start.elapsed();
    (events.len() as f64 / elapsed.as_secs_f64(), events.len())
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Peak resident set size of this process, from /proc (Linux).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The 1M phase runs in a child process so its peak RSS is the ledger's, not the bench's.
/// It fills a fresh ledger with 1,000,000 events from 64 writers appending 10 at a time, then
/// reopens it and replays the whole log. Prints `disk rss_after_fill replay_per_s rss_after_replay`.
fn million_child(dir: &Path) {
    const TOTAL: usize = 1_000_000;
    const WRITERS: usize = 64;
    const PER_APPEND: usize = 10;
    {
        let ledger = Ledger::open(Config::new(dir)).expect("open");
        runtime().block_on(async {
            let tasks: Vec<_> = (0..WRITERS)
                .map(|w| {
                    let ledger = ledger.clone();
                    tokio::spawn(async move {
                        let mut rng = fastrand::Rng::with_seed(w as u64);
                        for _ in 0..TOTAL / WRITERS / PER_APPEND {
                            let stream = format!("plan-{}", rng.usize(0..STREAMS));
                            let events = (0..PER_APPEND).map(|_| new_event(&mut rng)).collect();
                            ledger
                                .append(&stream, ExpectedVersion::Any, events, None)
                                .await
                                .expect("append");
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("task");
            }
        });
        ledger.shutdown();
    }
    let rss_fill = peak_rss_bytes();
    let disk = dir_size(dir);
    let ledger = Ledger::open(Config::new(dir)).expect("reopen");
    let (replay_per_s, n) = replay(&ledger);
    assert!(
        n >= TOTAL - WRITERS * PER_APPEND,
        "only {n} events replayed"
    );
    println!("{disk} {rss_fill} {replay_per_s} {}", peak_rss_bytes());
}

/// The ledger benchmark: durable appends against the disk's own fdatasync limit.
///
/// Without --writers or --raw: the standalone run (--quick: under a minute; full: adds 1,000,000
/// events). With them: slice mode, for bench/run (see the module documentation).
#[derive(Parser)]
#[command(name = "ledger-bench")]
struct Args {
    /// The short standalone run (no 1M-event part).
    #[arg(long)]
    quick: bool,
    /// The folder to work in (standalone: a scratch folder is made in it and removed; slice
    /// mode: ledgers are kept in it as DIR/cf-w<N>). Standalone default: the current directory,
    /// so the baseline and the ledger share a disk.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Slice mode: run these writer counts, one slice each (comma-separated).
    #[arg(long, value_name = "N,N,...", value_delimiter = ',', requires = "dir")]
    writers: Vec<usize>,
    /// Slice mode: run the raw fdatasync loop first.
    #[arg(long, requires = "dir")]
    raw: bool,
    /// Slice mode, with --raw: pace the raw loop at this many syncs a second.
    #[arg(long, value_name = "PER_SECOND", requires = "raw")]
    rate: Option<f64>,
    /// Slice mode: seconds per slice.
    #[arg(long, value_name = "S", default_value_t = 3.0)]
    seconds: f64,
    /// Slice mode: append each call's latency in microseconds to PREFIX-<slice>.txt.
    #[arg(long, value_name = "PREFIX")]
    latencies: Option<String>,
    /// Internal: the 1M-event part, run in a child process so its peak RSS is the ledger's.
    #[arg(long, value_name = "DIR", hide = true)]
    million_child: Option<PathBuf>,
}

/// One slice per measure, for a caller that interleaves them with other systems (`bench/run`).
fn slice_mode(args: &Args, dir: &Path) {
    std::fs::create_dir_all(dir).expect("bench folder");
    let duration = Duration::from_secs_f64(args.seconds);
    let record = |name: &str, (latencies, elapsed): (Vec<Duration>, Duration)| {
        if let Some(prefix) = &args.latencies {
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(format!("{prefix}-{name}.txt"))
                .expect("latency file");
            let mut text = String::with_capacity(latencies.len() * 8);
            for l in &latencies {
                text.push_str(&l.as_micros().to_string());
                text.push('\n');
            }
            file.write_all(text.as_bytes()).expect("write latencies");
        }
        let run = Tally { latencies, elapsed }.run();
        json!({
            "count": run.count,
            "elapsed_s": elapsed.as_secs_f64(),
            "per_s": run.per_s,
            "p50_ms": run.p50_ms,
            "p99_ms": run.p99_ms,
            "max_ms": run.max_ms,
        })
    };
    let mut summary = json!({});
    if args.raw {
        let mut raw_file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("raw-fsync.bin"))
            .expect("create the raw fsync file");
        summary["raw"] = record("raw", raw_fsync(&mut raw_file, duration, args.rate));
    }
    if !args.writers.is_empty() {
        let runtime = runtime();
        for &n in &args.writers {
            let ledger = Ledger::open(Config::new(dir.join(format!("cf-w{n}")))).expect("open");
            summary[format!("w{n}")] =
                record(&format!("w{n}"), appends(&runtime, &ledger, n, duration));
            ledger.shutdown();
        }
    }
    println!("{summary}");
}

fn main() {
    let args = Args::parse();
    if let Some(dir) = &args.million_child {
        million_child(dir);
        return;
    }
    if !args.writers.is_empty() || args.raw {
        // Safe: clap refuses --writers or --raw without --dir (their `requires`).
        let dir = args.dir.as_deref().expect("--dir, required in slice mode");
        slice_mode(&args, dir);
        return;
    }
    let quick = args.quick;
    let base = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&base).expect("bench folder");
    let tmp = Scratch(base.join(format!("ledger-bench-{}", std::process::id())));
    std::fs::create_dir_all(tmp.path()).expect("scratch folder");
    // The disk is noisy, so the three measures take turns in short slices rather than running
    // one after the other: each sees the same spells of a slow or a fast disk.
    let (rounds, slice) = if quick {
        (6, Duration::from_millis(1500))
    } else {
        (15, Duration::from_millis(2000))
    };
    let runtime = runtime();
    let raw_path = tmp.path().join("raw-fsync.bin");
    let mut raw_file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&raw_path)
        .expect("create the raw fsync file");
    let one = Ledger::open(Config::new(tmp.path().join("w1"))).expect("open");
    let many = Ledger::open(Config::new(tmp.path().join("w64"))).expect("open");
    let (mut raw, mut w1, mut w64) = (Tally::default(), Tally::default(), Tally::default());
    for round in 0..rounds {
        eprintln!(
            "round {}/{rounds}: raw fdatasync, 1 writer, 64 writers",
            round + 1
        );
        raw.add(raw_fsync(&mut raw_file, slice, None));
        w1.add(appends(&runtime, &one, 1, slice));
        w64.add(appends(&runtime, &many, 64, slice));
    }
    let (raw, w1, w64) = (raw.run(), w1.run(), w64.run());
    drop(raw_file);
    one.shutdown();
    drop(one);
    many.shutdown();
    drop(many);
    // Replay as a starting server does it: a fresh open, then the whole log into memory. Three
    // runs, the median reported (the first may pay for the file system cache).
    eprintln!("replay ...");
    let mut replays: Vec<(f64, usize)> = (0..3)
        .map(|_| {
            let ledger = Ledger::open(Config::new(tmp.path().join("w64"))).expect("reopen");
            let r = replay(&ledger);
            ledger.shutdown();
            r
        })
        .collect();
    replays.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (replay_per_s, replayed) = replays[1];

    let million = (!quick).then(|| {
        eprintln!("1,000,000 events (child process) ...");
        let dir = tmp.path().join("million");
        let out = std::process::Command::new(std::env::current_exe().expect("own path"))
            .arg("--million-child")
            .arg(&dir)
            .output()
            .expect("run the 1M child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<f64> = text
            .split_whitespace()
            .map(|x| x.parse().expect("a figure"))
            .collect();
        (f[0] as u64, f[1] as u64, f[2], f[3] as u64)
    });

    let row = |name: &str, r: &Run, baseline: &str| {
        println!(
            "{name:<28} {:>10.0} {:>9.2} {:>9.2} {:>9} {baseline}",
            r.per_s, r.p50_ms, r.p99_ms, r.count
        );
    };
    println!();
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>9} ratio",
        "measure", "per s", "p50 ms", "p99 ms", "count"
    );
    row("raw 4 KiB append+fdatasync", &raw, "(baseline)");
    row(
        "ledger, 1 writer",
        &w1,
        &format!(
            "{:.2}x raw fdatasync (target >= 0.80)",
            w1.per_s / raw.per_s
        ),
    );
    row(
        "ledger, 64 writers",
        &w64,
        &format!(
            "{:.2}x 1 writer (target >= 6, p99 < 5 ms)",
            w64.per_s / w1.per_s
        ),
    );
    println!(
        "{:<28} {:>10.0} {:>39} (target >= 500000/s)",
        "replay (events/s)", replay_per_s, replayed
    );
    if let Some((disk, rss_fill, replay_1m, rss_replay)) = million {
        println!(
            "{:<28} {:>10.1} MiB",
            "disk at 1M events",
            disk as f64 / 1048576.0
        );
        println!(
            "{:<28} {:>10.1} MiB",
            "peak RSS filling 1M",
            rss_fill as f64 / 1048576.0
        );
        println!(
            "{:<28} {:>10.0} (all 1M in memory, peak RSS {:.0} MiB)",
            "replay 1M (events/s)",
            replay_1m,
            rss_replay as f64 / 1048576.0
        );
    }
    let mut summary = json!({
        "quick": quick,
        "fsync_per_s": raw.per_s.round(),
        "fsync_p50_ms": raw.p50_ms,
        "fsync_p99_ms": raw.p99_ms,
        "w1_per_s": w1.per_s.round(),
        "w1_p50_ms": w1.p50_ms,
        "w1_p99_ms": w1.p99_ms,
        "w64_per_s": w64.per_s.round(),
        "w64_p50_ms": w64.p50_ms,
        "w64_p99_ms": w64.p99_ms,
        "replay_per_s": replay_per_s.round(),
        "w1_vs_fsync": w1.per_s / raw.per_s,
        "w64_vs_w1": w64.per_s / w1.per_s,
    });
    if let Some((disk, rss_fill, replay_1m, rss_replay)) = million {
        summary["disk_bytes_1m"] = json!(disk);
        summary["rss_bytes_1m"] = json!(rss_fill);
        summary["replay_per_s_1m"] = json!(replay_1m.round());
        summary["rss_bytes_1m_replayed"] = json!(rss_replay);
    }
    println!("{summary}");
}
