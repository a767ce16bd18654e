#!/usr/bin/env python3
"""bench/run's report: statistics over the raw results, the BENCHMARKS.md section, the JSON line.

  report.py --results DIR --benchmarks BENCHMARKS.md --root CHECKOUT --started EPOCH_SECONDS

Reads what bench/run left in DIR (ledger-bench JSON and latency files, pgbench output and
per-transaction logs, wrk JSON lines, growth figures), prints the section to stdout, replaces the
section between the markers in BENCHMARKS.md (or appends it), and prints one JSON object as the
last line of stdout. Exits 3 when any request or transaction failed (after writing everything).
Standard library only.
"""

import argparse
import datetime
import glob
import json
import os
import re
import statistics
import subprocess
import sys

START = "<!-- bench/run:start -->"
END = "<!-- bench/run:end -->"

TARGET_CF_VS_PG_W1 = 0.9
TARGET_CF_VS_PG_W64 = 1.5
TARGET_READ_P99_MS = 5.0
# editSection at 200/s is judged against the disk in the same rounds: its p99 (median of rounds)
# may exceed the paced fdatasync p99 (median of the same rounds) by at most this much
# (docs/decisions/what-bounds-the-last-two-targets.md).
TARGET_WRITE_OVER_DISK_MS = 5.0
# Bounded by async-graphql's executor: a figure to watch (same decision record).
TARGET_READ_VS_FLOOR = 0.45
TARGET_STARTUP_S_1M = 2.0
TARGET_RSS_BYTES_1M = 300e6  # 300 MB (10^6 bytes)
RATE_REACHED = 0.95  # a fixed-rate target counts only if the achieved rate is within 5 % of it

SIZE_KEYS = {10_000: "10k", 100_000: "100k", 1_000_000: "1m"}


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------

def percentile(sorted_values, p):
    """Nearest rank at round((n - 1) * p), as ledger-bench computes it."""
    if not sorted_values:
        return None
    return sorted_values[int(round((len(sorted_values) - 1) * p))]


def read_numbers(paths, field=None):
    """Integers from files, one per line (or the given whitespace field); non-numbers counted."""
    values, bad = [], 0
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                token = parts[field] if field is not None and len(parts) > field else parts[0]
                try:
                    values.append(int(token))
                except ValueError:
                    bad += 1
    values.sort()
    return values, bad


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------------------------
# Gathering
# ---------------------------------------------------------------------------------------------

def ledger_results(results, writers):
    """Per writer count: councilflow and PostgreSQL totals and pooled latency percentiles."""
    lat = os.path.join(results, "lat")
    out = {"cf": {}, "pg": {}, "raw": None}
    # councilflow: one JSON object per ledger-bench call, latencies pooled in lat/cf-<name>.txt
    totals = {}
    for path in sorted(glob.glob(os.path.join(results, "ledger", "cf-r*-w*.json")), key=round_of):
        data = load_json(path)
        if not data:
            continue
        for name, run in data.items():
            t = totals.setdefault(name, {"count": 0, "elapsed_s": 0.0, "rounds": []})
            t["count"] += run["count"]
            t["elapsed_s"] += run["elapsed_s"]
            t["rounds"].append(run["per_s"])
    for name, t in totals.items():
        values, _ = read_numbers(glob.glob(os.path.join(lat, f"cf-{name}.txt")))
        entry = {
            "count": t["count"],
            "per_s": t["count"] / t["elapsed_s"] if t["elapsed_s"] else None,
            "p50_ms": ms(percentile(values, 0.50)),
            "p99_ms": ms(percentile(values, 0.99)),
            "rounds": t["rounds"],
        }
        if name == "raw":
            out["raw"] = entry
        else:
            out["cf"][int(name[1:])] = entry
    # PostgreSQL: pgbench's summary per slice; per-transaction log lines (3rd field: latency us)
    for n in writers:
        count = failed = slices = 0
        elapsed = 0.0
        rounds = []
        for path in sorted(glob.glob(os.path.join(results, "ledger", f"pg-r*-w{n}.out")),
                           key=round_of):
            text = read_text(path) or ""
            processed = re.search(r"number of transactions actually processed:\s*(\d+)", text)
            tps = re.search(r"^tps = ([0-9.]+)", text, re.M)
            fails = re.search(r"number of failed transactions:\s*(\d+)", text)
            if not processed or not tps:
                continue
            c, rate = int(processed.group(1)), float(tps.group(1))
            count += c
            elapsed += c / rate if rate else 0.0
            failed += int(fails.group(1)) if fails else 0
            slices += 1
            rounds.append(rate)
        if not slices:
            continue
        logs = [p for p in glob.glob(os.path.join(lat, f"pg-w{n}-r*")) if os.path.isfile(p)]
        values, bad = read_numbers(logs, field=2)
        out["pg"][n] = {
            "count": count,
            "per_s": count / elapsed if elapsed else None,
            "p50_ms": ms(percentile(values, 0.50)),
            "p99_ms": ms(percentile(values, 0.99)),
            "failures": failed + bad,
            "rounds": rounds,
        }
    return out


def round_of(path):
    match = re.search(r"-r(\d+)-", os.path.basename(path))
    return int(match.group(1)) if match else 0


def ms(us):
    return None if us is None else us / 1000.0


def wrk_results(results):
    runs = {}
    for path in glob.glob(os.path.join(results, "wrk", "*.json")):
        name = os.path.basename(path)[:-5]
        data = load_json(path)
        if data is not None and "requests" in data:
            data["all_failures"] = data["failures"] + data["socket_errors"]
            runs[name] = data
    return runs


def saturation(runs, mode):
    chosen = [r for name, r in sorted(runs.items()) if name.startswith(f"sat-{mode}-r")]
    if not chosen:
        return None
    return {
        "runs": len(chosen),
        "per_s_each": [r["per_s"] for r in chosen],
        "per_s": median([r["per_s"] for r in chosen]),
        "p50_ms": median([r["p50_ms"] for r in chosen]),
        "p99_ms": median([r["p99_ms"] for r in chosen]),
        "failures": sum(r["all_failures"] for r in chosen),
        "body_bytes": max(r.get("body_bytes", 0) for r in chosen),
    }


def fixed_rounds(results, runs, name):
    """The fixed-rate rounds `name-rN`, each with the disk's paced fdatasync from the same round
    (`disk/rN.json`), and their medians: a round's p99 rests on ~1,000 requests, and one stall of
    the device lands in whichever round it falls in."""
    chosen = sorted((int(n.rsplit("-r", 1)[1]), r) for n, r in runs.items()
                    if n.startswith(f"{name}-r"))
    if not chosen:
        return None
    rounds = []
    for i, r in chosen:
        disk = (load_json(os.path.join(results, "disk", f"r{i}.json")) or {}).get("raw")
        rounds.append({"run": r, "disk": disk})
    disks = [x["disk"] for x in rounds if x["disk"]]
    return {
        "rounds": rounds,
        "per_s": median([x["run"]["per_s"] for x in rounds]),
        "p50_ms": median([x["run"]["p50_ms"] for x in rounds]),
        "p99_ms": median([x["run"]["p99_ms"] for x in rounds]),
        "p99_each": [x["run"]["p99_ms"] for x in rounds],
        "max_ms": max(x["run"]["max_ms"] for x in rounds),
        "requests": sum(x["run"]["requests"] for x in rounds),
        "all_failures": sum(x["run"]["all_failures"] for x in rounds),
        "disk_p50_ms": median([d["p50_ms"] for d in disks]) if disks else None,
        "disk_p99_ms": median([d["p99_ms"] for d in disks]) if disks else None,
        "disk_p99_each": [d["p99_ms"] for d in disks],
        "disk_max_ms": max(d["max_ms"] for d in disks) if disks else None,
    }


def growth_results(results, sizes, runs):
    """Per size: the fill, the starts, peak RSS and disk, and the plan query (`runs`' growth-N)."""
    out = {}
    for size in sizes:
        g = os.path.join(results, "growth", str(size))
        fill = load_json(os.path.join(g, "fill.json"))
        if fill is None:
            continue
        startups = [float(x) for x in (read_text(os.path.join(g, "startup.txt")) or "").split()]
        rss = read_text(os.path.join(g, "rss_bytes.txt"))
        disk = read_text(os.path.join(g, "disk_bytes.txt"))
        query = runs.get(f"growth-{size}")
        cold = (read_text(os.path.join(g, "cold.txt")) or "").split()
        out[size] = {
            "events": fill.get("events"),
            "plans": len(fill.get("plans", [])),
            "fill_s": fill.get("seconds"),
            "startups_s": startups,
            "startup_s": median(startups),
            "rss_bytes": int(rss) if rss else None,
            "disk_bytes": int(disk) if disk else None,
            "query": query,
            "cold_startup_s": float(cold[0]) if len(cold) > 0 else None,
            "cold_rss_bytes": int(cold[1]) if len(cold) > 1 else None,
        }
    return out


def machine(root):
    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=root,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    cpuinfo = read_text("/proc/cpuinfo") or ""
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    meminfo = read_text("/proc/meminfo") or ""
    mem = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    df = run(["df", "-T", os.path.join(root, "target")]).splitlines()
    fs = df[1].split() if len(df) > 1 else ["?", "?"]
    lock = read_text(os.path.join(root, "Cargo.lock")) or ""
    sled = re.search(r'name = "sled"\nversion = "([^"]+)"', lock)
    wrk = run(["sh", "-c", "wrk -v 2>&1 | head -1"])
    wrk = re.search(r"wrk (\S+)", wrk)
    commit = run(["git", "rev-parse", "--short", "HEAD"])
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model.group(1).strip() if model else "?",
        "memory_gib": round(int(mem.group(1)) / 1048576, 1) if mem else None,
        "kernel": os.uname().release,
        "filesystem": fs[1],
        "device": fs[0],
        "rustc": run(["rustc", "-V"]),
        "postgres": run(["/usr/lib/postgresql/15/bin/postgres", "--version"]),
        "wrk": wrk.group(1) if wrk else "?",
        "sled": sled.group(1) if sled else "?",
        "commit": commit + (" + uncommitted changes" if dirty else ""),
    }


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------

def num(value, digits=0):
    if value is None:
        return "–"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def met(value, target, at_least=True):
    if value is None:
        return None
    return value >= target if at_least else value < target


def fixed_rate_met(p99, target, failures, achieved, rate):
    if p99 is None or target is None:
        return None
    return p99 <= target and not failures and achieved >= RATE_REACHED * rate


def write_target_ms(disk_p99_ms):
    """The editSection p99 target of a run: the disk's paced fdatasync p99 of the same rounds
    plus TARGET_WRITE_OVER_DISK_MS."""
    return None if disk_p99_ms is None else disk_p99_ms + TARGET_WRITE_OVER_DISK_MS


def met_text(flag):
    return {True: "met", False: "**missed**", None: "not measured"}[flag]


def fail_text(n):
    if n is None:
        return "–"
    return "0" if n == 0 else f"**FAILED: {n:,}**"


def mb(b):
    return None if b is None else b / 1e6


def table(header, rows):
    text_columns = {"target", "met", "ratio", "load", "measure", "cf / pg"}
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" if i == 0 or h in text_columns else "---:"
                                for i, h in enumerate(header)) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--benchmarks", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--started", type=float, required=True)
    ap.add_argument("--measured-from", type=float)
    args = ap.parse_args()

    R = args.results
    params = load_json(os.path.join(R, "params.json")) or {}
    quick = bool(params.get("quick"))
    writers = params.get("writers", [1, 16, 64])
    sizes = params.get("sizes", [])
    led = ledger_results(R, writers)
    runs = wrk_results(R)
    growth = growth_results(R, sizes, runs)
    m = machine(args.root)
    pg_settings = read_text(os.path.join(R, "pg-settings.txt"))
    now = datetime.datetime.now(datetime.timezone.utc)
    measured_from = args.measured_from or args.started
    took = now.timestamp() - measured_from
    setup_s = measured_from - args.started

    J = {"quick": quick, "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "run_s": round(took, 1),
         "setup_s": round(setup_s, 1)}

    # 1 + 2: appends
    for n in writers:
        pg, cf = led["pg"].get(n), led["cf"].get(n)
        for key, v in (("pg", pg), ("cf", cf)):
            J[f"{key}_w{n}_per_s"] = round(v["per_s"], 1) if v and v["per_s"] else None
            J[f"{key}_w{n}_p50_ms"] = v["p50_ms"] if v else None
            J[f"{key}_w{n}_p99_ms"] = v["p99_ms"] if v else None
        J[f"cf_vs_pg_w{n}"] = ratio(J[f"cf_w{n}_per_s"], J[f"pg_w{n}_per_s"])
    J["pg_failures"] = sum(v["failures"] for v in led["pg"].values()) if led["pg"] else None
    raw = led["raw"]
    J["fsync_per_s"] = round(raw["per_s"], 1) if raw else None
    J["fsync_p50_ms"] = raw["p50_ms"] if raw else None
    J["fsync_p99_ms"] = raw["p99_ms"] if raw else None
    J["cf_w1_vs_fsync"] = ratio(J.get("cf_w1_per_s"), J["fsync_per_s"])
    J["pg_w1_vs_fsync"] = ratio(J.get("pg_w1_per_s"), J["fsync_per_s"])

    # 3: HTTP
    read_fixed, edit_fixed = runs.get("read-fixed"), fixed_rounds(R, runs, "edit-fixed")
    sat_read, sat_floor = saturation(runs, "read"), saturation(runs, "floor")
    sat_edit = runs.get("sat-edit")
    J["read_rate_target"] = params.get("read_rate")
    J["read_rate_achieved"] = read_fixed["per_s"] if read_fixed else None
    J["read_p50_ms_at_1k"] = read_fixed["p50_ms"] if read_fixed else None
    J["read_p99_ms_at_1k"] = read_fixed["p99_ms"] if read_fixed else None
    J["read_failures"] = read_fixed["all_failures"] if read_fixed else None
    J["write_rate_target"] = params.get("edit_rate")
    J["write_rate_achieved"] = edit_fixed["per_s"] if edit_fixed else None
    J["write_p50_ms_at_200"] = edit_fixed["p50_ms"] if edit_fixed else None
    J["write_p99_ms_at_200"] = edit_fixed["p99_ms"] if edit_fixed else None
    J["write_p99_ms_at_200_each"] = edit_fixed["p99_each"] if edit_fixed else None
    J["write_max_ms_at_200"] = edit_fixed["max_ms"] if edit_fixed else None
    J["disk_p99_ms_at_200"] = edit_fixed["disk_p99_ms"] if edit_fixed else None
    J["disk_p99_ms_at_200_each"] = edit_fixed["disk_p99_each"] if edit_fixed else None
    J["disk_max_ms_at_200"] = edit_fixed["disk_max_ms"] if edit_fixed else None
    J["write_failures"] = edit_fixed["all_failures"] if edit_fixed else None
    J["read_max_per_s"] = sat_read["per_s"] if sat_read else None
    J["read_max_p50_ms"] = sat_read["p50_ms"] if sat_read else None
    J["read_max_p99_ms"] = sat_read["p99_ms"] if sat_read else None
    J["read_max_failures"] = sat_read["failures"] if sat_read else None
    J["floor_max_per_s"] = sat_floor["per_s"] if sat_floor else None
    J["floor_max_p50_ms"] = sat_floor["p50_ms"] if sat_floor else None
    J["floor_max_p99_ms"] = sat_floor["p99_ms"] if sat_floor else None
    J["floor_failures"] = sat_floor["failures"] if sat_floor else None
    J["read_vs_floor"] = ratio(J["read_max_per_s"], J["floor_max_per_s"])
    J["write_max_per_s"] = sat_edit["per_s"] if sat_edit else None
    J["write_max_p50_ms"] = sat_edit["p50_ms"] if sat_edit else None
    J["write_max_p99_ms"] = sat_edit["p99_ms"] if sat_edit else None
    J["write_max_failures"] = sat_edit["all_failures"] if sat_edit else None

    # 4: growth
    for size, key in SIZE_KEYS.items():
        g = growth.get(size)
        q = g["query"] if g else None
        J[f"events_{key}"] = g["events"] if g else None
        J[f"fill_s_{key}"] = g["fill_s"] if g else None
        J[f"startup_s_{key}"] = g["startup_s"] if g else None
        J[f"startup_s_{key}_without_snapshot"] = g["cold_startup_s"] if g else None
        J[f"rss_bytes_{key}_without_snapshot"] = g["cold_rss_bytes"] if g else None
        J[f"rss_bytes_{key}"] = g["rss_bytes"] if g else None
        J[f"disk_bytes_{key}"] = g["disk_bytes"] if g else None
        J[f"query_p50_ms_{key}"] = q["p50_ms"] if q else None
        J[f"query_p99_ms_{key}"] = q["p99_ms"] if q else None
        J[f"query_failures_{key}"] = q["all_failures"] if q else None
    J["query_p99_ratio_100k_vs_10k"] = ratio(J["query_p99_ms_100k"], J["query_p99_ms_10k"])
    J["query_p99_ratio_1m_vs_10k"] = ratio(J["query_p99_ms_1m"], J["query_p99_ms_10k"])

    # The web application (part "web"): pages at a fixed rate, saturation beside the JSON floor.
    web_bytes = load_json(os.path.join(R, "web", "bytes.json"))
    for kind in ("page", "home", "board"):
        r = runs.get(f"web-{kind}-fixed")
        J[f"web_{kind}_p50_ms"] = r["p50_ms"] if r else None
        J[f"web_{kind}_p99_ms"] = r["p99_ms"] if r else None
        J[f"web_{kind}_rate_achieved"] = r["per_s"] if r else None
        J[f"web_{kind}_failures"] = r["all_failures"] if r else None
    web_sat = {}
    for kind in ("page", "home", "board", "floor"):
        chosen = [r for n, r in sorted(runs.items()) if n.startswith(f"web-sat-{kind}-r")]
        web_sat[kind] = median([r["per_s"] for r in chosen]) if chosen else None
        J[f"web_sat_{kind}_per_s"] = web_sat[kind]
        J[f"web_sat_{kind}_failures"] = sum(r["all_failures"] for r in chosen) if chosen else None
    writing = runs.get("web-sat-home-writing")
    writes = load_json(os.path.join(R, "wrk", "web-writes.json"))
    J["web_sat_home_writing_per_s"] = writing["per_s"] if writing else None
    J["web_sat_home_writing_failures"] = writing["all_failures"] if writing else None
    J["web_writes_per_s"] = writes["per_s"] if writes else None
    J["web_writes_failures"] = (writes["failures"] + writes.get("socket_errors", 0)) if writes else None
    J["web_page_vs_floor"] = ratio(web_sat["page"], web_sat["floor"])
    J["web_home_vs_floor"] = ratio(web_sat["home"], web_sat["floor"])
    J["web_board_vs_floor"] = ratio(web_sat["board"], web_sat["floor"])
    live = load_json(os.path.join(R, "web", "live.json"))
    for key in ("connections", "kib_per_stream", "rss_kib_before", "rss_kib_open",
                "delivery_p50_ms", "delivery_p99_ms", "delivery_max_ms", "act_answer_p50_ms",
                "act_answer_p99_ms", "floor_idle_p50_ms", "floor_open_p50_ms", "floor_open_p99_ms",
                "events_missed", "streams_refused", "acts_failed"):
        J[f"live_{key}"] = live[key] if live else None
    J["web_first_visit_gzip_bytes"] = (web_bytes["page_html_gzip"] + web_bytes["css_gzip"]
                                       + web_bytes["js"]) if web_bytes else None
    web_rate = params.get("web_rate", 100)

    targets = [
        ("councilflow ≥ 0.9 × PostgreSQL, 1 writer", f"{num(J['cf_vs_pg_w1'], 2)} ×",
         met(J["cf_vs_pg_w1"], TARGET_CF_VS_PG_W1)),
        ("councilflow ≥ 1.5 × PostgreSQL, 64 writers", f"{num(J['cf_vs_pg_w64'], 2)} ×",
         met(J["cf_vs_pg_w64"], TARGET_CF_VS_PG_W64)),
        ("reads p99 < 5 ms at 1,000 req/s", f"{num(J['read_p99_ms_at_1k'], 2)} ms at "
         f"{num(J['read_rate_achieved'])} req/s",
         fixed_rate_met(J["read_p99_ms_at_1k"], TARGET_READ_P99_MS, J["read_failures"],
                        J["read_rate_achieved"], J["read_rate_target"])),
        (f"editSection p99 ≤ the disk's paced fdatasync p99 + {TARGET_WRITE_OVER_DISK_MS:g} ms "
         "at 200 req/s (medians of the same rounds)",
         f"{num(J['write_p99_ms_at_200'], 2)} ms at {num(J['write_rate_achieved'])} req/s, "
         f"target {num(write_target_ms(J['disk_p99_ms_at_200']), 2)} ms (the disk alone: "
         f"fdatasync p99 {num(J['disk_p99_ms_at_200'], 2)} ms, "
         f"max {num(J['disk_max_ms_at_200'], 0)} ms)",
         fixed_rate_met(J["write_p99_ms_at_200"], write_target_ms(J["disk_p99_ms_at_200"]),
                        J["write_failures"], J["write_rate_achieved"], J["write_rate_target"])),
        (f"GraphQL reads ≥ {TARGET_READ_VS_FLOOR} × the HTTP floor at saturation",
         f"{num(J['read_vs_floor'], 2)} ×",
         met(J["read_vs_floor"], TARGET_READ_VS_FLOOR)),
        ("start-up < 2 s at 1M events", f"{num(J['startup_s_1m'], 2)} s",
         met(J["startup_s_1m"], TARGET_STARTUP_S_1M, at_least=False)),
        ("peak RSS < 300 MB at 1M events", f"{num(mb(J['rss_bytes_1m']), 0)} MB",
         met(J["rss_bytes_1m"], TARGET_RSS_BYTES_1M, at_least=False)),
        ("web: plan page p99 < 10 ms at 100 req/s (1,000 plans)",
         f"{num(J['web_page_p99_ms'], 2)} ms at {num(J['web_page_rate_achieved'])} req/s",
         fixed_rate_met(J["web_page_p99_ms"], 10.0, J["web_page_failures"],
                        J["web_page_rate_achieved"], web_rate)),
        ("web: Waiting on you p99 < 10 ms at 100 req/s (1,000 plans)",
         f"{num(J['web_home_p99_ms'], 2)} ms at {num(J['web_home_rate_achieved'])} req/s",
         fixed_rate_met(J["web_home_p99_ms"], 10.0, J["web_home_failures"],
                        J["web_home_rate_achieved"], web_rate)),
        ("web: plan page ≥ 0.5 × the JSON floor at saturation", f"{num(J['web_page_vs_floor'], 2)} ×",
         met(J["web_page_vs_floor"], 0.5)),
        ("web: Waiting on you ≥ 0.5 × the JSON floor at saturation",
         f"{num(J['web_home_vs_floor'], 2)} ×", met(J["web_home_vs_floor"], 0.5)),
        ("web: first visit < 100 KB compressed", f"{num(J['web_first_visit_gzip_bytes'])} bytes",
         met(J["web_first_visit_gzip_bytes"], 100_000, at_least=False)),
    ]
    J["targets_met"] = sum(1 for t in targets if t[2] is True)
    J["targets_missed"] = sum(1 for t in targets if t[2] is False)
    J["targets_not_measured"] = sum(1 for t in targets if t[2] is None)
    failure_keys = ["pg_failures", "read_failures", "write_failures", "read_max_failures",
                    "floor_failures", "write_max_failures"] + \
                   [f"query_failures_{k}" for k in SIZE_KEYS.values()] + \
                   ["web_page_failures", "web_home_failures", "web_sat_page_failures",
                    "web_sat_home_failures", "web_sat_floor_failures", "web_board_failures",
                    "web_sat_board_failures", "live_events_missed", "live_streams_refused",
                    "live_acts_failed",
                    "web_sat_home_writing_failures", "web_writes_failures"]
    J["failures_total"] = sum(J[k] or 0 for k in failure_keys)

    # -----------------------------------------------------------------------------------------
    md = []
    w = md.append
    w(START)
    w("## The whole system against baselines (`bench/run`)")
    w("")
    w(f"Generated by `bench/run{' --quick' if quick else ''}` on {now:%Y-%m-%d %H:%M} UTC "
      f"(measuring took {took / 60:.1f} min, after {setup_s:.0f} s of tool checks and build), "
      f"commit {m['commit']}. `bench/run` rewrites everything between "
      "the `bench/run` markers; what the figures say, the faults and the fuzzing are written by "
      "hand below the section.")
    w("")
    if J["failures_total"]:
        w(f"> **FAILURES IN THIS RUN: {J['failures_total']:,} failed requests or transactions** "
          "(see the `failures` columns). Figures from runs with failures are not valid.")
        w("")
    w("```sh")
    w("bench/run            # full, ~6 min: 5 rounds of append slices, 15 s load runs (editSection: 5 rounds of 5 s, each beside the disk), growth to 1M")
    w("bench/run --quick    # under 2 min: 2 rounds, short load runs, growth at 10k and 100k events")
    w("```")
    w("")
    w("It installs wrk and PostgreSQL 15 when missing, builds the release binaries, keeps its "
      "scratch data in `target/bench-run.*` (the checkout's disk), stops every process it started "
      "and removes that folder on exit, even on an error or Ctrl-C. Everything runs on 127.0.0.1. "
      "The last line it prints is one JSON object (at the end of this section). It exits 3 when "
      "any request or transaction failed.")
    w("")
    w(f"**Machine:** {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, "
      f"`target/` on {m['filesystem']} ({m['device']}). The load generators (pgbench, wrk) run on "
      "the same 2 cores as the system measured.  ")
    w(f"**Versions:** {m['rustc']}, {m['postgres']}, wrk {m['wrk']}, sled {m['sled']}, release build.")
    w("")

    # 1
    w("### 1. Durable appends: councilflow's ledger against PostgreSQL 15 on the same disk")
    w("")
    if led["cf"] or led["pg"]:
        w(f"{params.get('rounds')} rounds; each round a raw `fdatasync` slice, then for 1, 16 and 64 "
          f"writers a PostgreSQL slice and a councilflow slice of {params.get('slice_s')} s each "
          "(which goes first alternates by round), so both see the same spells of a fast or slow "
          "disk. events/s = all events / all measured time, per system and writer count; p50 and "
          "p99 over every append of every round. One event per transaction or append, a random "
          "stream among 1,000, a ~300-byte JSON payload.")
        w("")
        rows = []
        for n in writers:
            pg, cf = led["pg"].get(n), led["cf"].get(n)
            r = J[f"cf_vs_pg_w{n}"]
            target = {1: TARGET_CF_VS_PG_W1, 64: TARGET_CF_VS_PG_W64}.get(n)
            rows.append([
                n,
                num(pg and pg["per_s"]), num(pg and pg["p50_ms"], 2), num(pg and pg["p99_ms"], 2),
                num(cf and cf["per_s"]), num(cf and cf["p50_ms"], 2), num(cf and cf["p99_ms"], 2),
                f"{num(r, 2)} ×",
                f"≥ {target} ×" if target else "–",
                met_text(met(r, target)) if target else "–",
            ])
        w(table(["writers", "PostgreSQL events/s", "pg p50 ms", "pg p99 ms",
                 "councilflow events/s", "cf p50 ms", "cf p99 ms", "cf / pg", "target", "met"],
                rows))
        w("")
        w("Each round's events/s (how noisy the disk was):")
        w("")
        rows = []
        for n in writers:
            for label, v in (("PostgreSQL", led["pg"].get(n)), ("councilflow", led["cf"].get(n))):
                if v:
                    rows.append([f"{label}, {n} writer{'s' if n > 1 else ''}"]
                                + [num(x) for x in v["rounds"]])
        if raw:
            rows.append(["raw 4 KiB append + fdatasync"] + [num(x) for x in raw["rounds"]])
        width = max(len(r) for r in rows) - 1 if rows else 0
        w(table(["measure"] + [f"round {i + 1}" for i in range(width)], rows))
        w("")
        pg_events = read_text(os.path.join(R, "pg-events.txt"))
        w(f"PostgreSQL transactions failed: {fail_text(J['pg_failures'])}"
          + (f"; {int(pg_events):,} events in its table at the end." if pg_events else "."))
        w("")
        w("- **PostgreSQL:** a fresh cluster (`initdb`, run as the `postgres` user) in the scratch "
          "folder, started with `-c synchronous_commit=on -c fsync=on`, listening on 127.0.0.1. "
          "Settings as run: " + ", ".join(f"`{s}`" for s in (pg_settings or "").splitlines()) + ". "
          "Tables `events(position bigserial primary key, stream text, version bigint, payload "
          "jsonb, unique (stream, version))` and `streams(id text primary key, version bigint)` "
          "(1,000 rows). Each transaction is one autocommit statement "
          "(`bench/pg-append.sql`): `WITH v AS (UPDATE streams SET version = version + 1 WHERE id = "
          "'plan-' || :n RETURNING version) INSERT INTO events ... SELECT ... FROM v`, run by "
          "`pgbench -n -M prepared -j 2 -c N -T S -l` (latency from its per-transaction log).")
        w("- **councilflow:** `ledger-bench --writers N --seconds S --raw --latencies ...` "
          "(slice mode): `Ledger::append` from N tokio tasks (2 worker threads), one event per "
          "append at the stream's next version, latency from the call to the acknowledgement "
          "after the durability sync.")
        w("- **Not like for like, honestly:** the councilflow side also hashes every event with "
          "SHA-256 and chains it onto the previous one, and keeps an idempotency index and a "
          "per-stream index, all in the same durable batch; the PostgreSQL side has no hash chain "
          "and no idempotency keys (it does keep two B-tree indexes and the stream-version row). "
          "PostgreSQL gets a constant payload literal (parsed into `jsonb` each time); councilflow "
          "a random one of the same size. Both run on the same 2 cores as their load generator.")
    else:
        w("Not run in this invocation.")
    w("")

    # 2
    w("### 2. The disk's limit: raw `fdatasync`")
    w("")
    if raw:
        w("Append 4 KiB to a file and `fdatasync` it, in a loop (ledger-bench `--raw`), one slice "
          "per round, just before the 1-writer councilflow slice (same process). Each sync here "
          "extends the file by a fresh 4 KiB block; the ledger appends ~0.5 KiB records to its "
          "write-ahead file and PostgreSQL rewrites pages of preallocated WAL segments, so their "
          "one-writer rates can come out above this loop's.")
        w("")
        w(table(["measure", "per s", "p50 ms", "p99 ms", "syncs", "ledger 1 writer / raw",
                 "PostgreSQL 1 writer / raw"],
                [["raw 4 KiB append + fdatasync", num(raw["per_s"]), num(raw["p50_ms"], 3),
                  num(raw["p99_ms"], 3), num(raw["count"]), f"{num(J['cf_w1_vs_fsync'], 2)} ×",
                  f"{num(J['pg_w1_vs_fsync'], 2)} ×"]]))
    else:
        w("Not run in this invocation.")
    w("")

    # 3
    w("### 3. GraphQL under load (wrk)")
    w("")
    if runs:
        w("The real server (`councilflow serve`, release build) on a fresh data folder; a bearer "
          "token for ravi-patel (Stockport's drafter); a Stockport productivity plan started with "
          "an explicit id and its six sections drafted. `bench/load.lua` checks **every** response "
          "body: a GraphQL read fails on a non-200, a body with `\"errors\"` or without the plan "
          "id; the floor on a non-200 or a body without the plan id; a mutation on a non-200, "
          "`\"errors\"` or no `revision`. Socket errors and timeouts count as failures too.")
        w("")
        rb = (sat_read or {}).get("body_bytes") or (read_fixed or {}).get("body_bytes")
        fb = (sat_floor or {}).get("body_bytes")
        w("- **Read:** `POST /graphql` `{ plan(id) { id status revision currentStage { id } stages "
          "{ id title kind status deadline requirements { role satisfied council { id } } signOffs "
          "{ role person { id } at planRevision stale } } blockers { stage code message } sections "
          f"{{ id revision text }} }} }}` ({num(rb)} bytes).")
        w(f"- **Floor:** `GET /plans/<id>.json` with the same token ({num(fb)} bytes): the same "
          "projection serialised by plain axum in the same process, no GraphQL.")
        w(f"- **Mutation:** `editSection` round-robin over {params.get('edit_plans')} plans × 6 "
          "sections (each wrk thread its own half of the plans), each request a different "
          "~200-character text, no expected revision: a design meant to cause no conflicts, so "
          "a CONFLICT is a failure.")
        w("")
        w("**Fixed rate.** wrk has no rate option: `delay()` holds each request until its slot "
          "on a per-thread schedule (t0 + k × threads / rate), so this is **closed-loop pacing** "
          "with a bounded number of connections. Latency is measured from when a request is sent; "
          "if the server stalls, the requests that should have gone out meanwhile wait for a free "
          "connection and that wait is not counted (coordinated omission), so p99 here can "
          "understate what an open-loop client at this rate would see (wrk2 corrects for it). "
          "The achieved rate is shown next to the target: if it falls short by more than 5 %, "
          "the server did not keep up and the target counts as missed.")
        w("")
        if edit_fixed:
            w(f"The mutation runs in {len(edit_fixed['rounds'])} rounds of "
              f"{params.get('edit_s')} s; its row gives the medians of the rounds' rate, p50 and "
              "p99 (the worst round's p99 is below), the sum of requests and failures, and the "
              "largest max. Each round sits next to a **disk baseline** on the same file system: "
              "`ledger-bench --raw --rate` appends 4 KiB and calls `fdatasync` once every "
              "1/rate s, so a stall of the device in that round shows there too. The order "
              "alternates from round to round.")
            w("")
        rows = []
        for label, r, rate, conns, target in (
            ("GraphQL plan read", read_fixed, params.get("read_rate"), params.get("read_conns"),
             TARGET_READ_P99_MS),
            ("editSection mutation", edit_fixed, params.get("edit_rate"), params.get("edit_conns"),
             write_target_ms(edit_fixed["disk_p99_ms"]) if edit_fixed else None),
        ):
            if not r:
                continue
            ok = fixed_rate_met(r["p99_ms"], target, r["all_failures"], r["per_s"], rate)
            verdict = ("**missed** (rate not reached)" if r["per_s"] < RATE_REACHED * rate
                       else met_text(ok))
            rows.append([label, f"{rate:,}", num(r["per_s"]), conns, num(r["requests"]),
                         num(r["p50_ms"], 2), num(r["p99_ms"], 2), num(r["max_ms"], 2),
                         fail_text(r["all_failures"]), f"p99 ≤ {num(target, 2)} ms", verdict])
        w(table(["load", "target req/s", "achieved req/s", "connections", "requests", "p50 ms",
                 "p99 ms", "max ms", "failures", "target", "met"], rows))
        w("")
        if edit_fixed:
            rows = []
            for i, x in enumerate(edit_fixed["rounds"]):
                r, d = x["run"], x["disk"] or {}
                rows.append([i + 1, num(r["per_s"]), num(r["p50_ms"], 2), num(r["p99_ms"], 2),
                             num(r["max_ms"], 2), fail_text(r["all_failures"]),
                             num(d.get("p50_ms"), 2), num(d.get("p99_ms"), 2),
                             num(d.get("max_ms"), 2)])
            rows.append(["median", num(edit_fixed["per_s"]), num(edit_fixed["p50_ms"], 2),
                         num(edit_fixed["p99_ms"], 2), num(edit_fixed["max_ms"], 2) + " (largest)",
                         fail_text(edit_fixed["all_failures"]) + " (sum)",
                         num(edit_fixed["disk_p50_ms"], 2), num(edit_fixed["disk_p99_ms"], 2),
                         num(edit_fixed["disk_max_ms"], 2) + " (largest)"])
            w(table(["round", "editSection req/s", "p50 ms", "p99 ms", "max ms", "failures",
                     "disk fdatasync p50 ms", "disk p99 ms", "disk max ms"], rows))
            w("")
        w(f"**Saturation.** No pacing, {params.get('wrk_threads')} wrk threads × "
          f"{params.get('sat_conns')} connections; GraphQL and floor runs alternate, "
          f"{params.get('sat_rounds')} rounds of {params.get('sat_s')} s; per s is the median of "
          "the runs (p50, p99: medians of the runs' percentiles). wrk shares the 2 cores with the "
          "server, so these are limits of this box, not of the server alone.")
        w("")
        rows = []
        for label, s in (("GraphQL plan read", sat_read), ("floor: GET /plans/<id>.json", sat_floor)):
            if not s:
                continue
            each = ", ".join(num(x) for x in s["per_s_each"])
            is_read = s is sat_read
            rows.append([label, s["runs"], num(s["per_s"]), each, num(s["p50_ms"], 2),
                         num(s["p99_ms"], 2), fail_text(s["failures"]),
                         f"{num(J['read_vs_floor'], 2)} × floor" if is_read else "baseline",
                         f"≥ {TARGET_READ_VS_FLOOR} × floor" if is_read else "",
                         met_text(met(J["read_vs_floor"], TARGET_READ_VS_FLOOR)
                                  and not s["failures"]) if is_read else ""])
        if sat_edit:
            rows.append(["editSection mutation", 1, num(sat_edit["per_s"]), num(sat_edit["per_s"]),
                         num(sat_edit["p50_ms"], 2), num(sat_edit["p99_ms"], 2),
                         fail_text(sat_edit["all_failures"]), "", "", ""])
        w(table(["load", "runs", "median req/s", "each run req/s", "p50 ms", "p99 ms", "failures",
                 "ratio", "target", "met"], rows))
    else:
        w("Not run in this invocation.")
    w("")

    # 4
    w("### 4. Growth: start-up, peak RSS and a plan query at 10k, 100k and 1M events")
    w("")
    if growth:
        w("`councilflow-fill --data DIR --events N` fills a fresh folder with governance activity "
          "through the real service; then the server starts on it 3 times (start-up = spawn to "
          "the first 200 from `/healthz`, polled every 5 ms; median of 3). After the last start: "
          f"a plan query (the GraphQL read above, on a filled plan) at {params.get('growth_rate')} "
          f"req/s for {params.get('growth_query_s')} s, bodies checked, then the server's peak "
          "RSS (`VmHWM`). The baseline: one more start with the projection snapshot removed, "
          "which replays the whole log (as every start did before the snapshot). MB = 10^6 bytes.")
        w("")
        rows = []
        for size in sizes:
            g = growth.get(size)
            if not g:
                rows.append([f"{size:,}", "not run"] + [""] * 12)
                continue
            q = g["query"] or {}
            rows.append([f"{size:,}", num(g["events"]), g["plans"], num(g["fill_s"], 1),
                         num(mb(g["disk_bytes"]), 0), num(g["startup_s"], 3),
                         ", ".join(f"{x:.3f}" for x in g["startups_s"]), num(mb(g["rss_bytes"]), 0),
                         num(q.get("per_s")), num(q.get("p50_ms"), 2), num(q.get("p99_ms"), 2),
                         fail_text(q.get("all_failures")), num(g["cold_startup_s"], 2),
                         num(mb(g["cold_rss_bytes"]), 0)])
        w(table(["events asked", "events in log", "plans", "fill s", "disk MB", "start-up s",
                 "each start s", "peak RSS MB", "query req/s", "p50 ms", "p99 ms", "failures",
                 "without snapshot: start-up s", "peak RSS MB"],
                rows))
        w("")
        if 1_000_000 not in growth:
            w("1M events not measured in this run"
              + (" (`--quick` stops at 100k; the JSON carries `startup_s_1m: null`, "
                 "`rss_bytes_1m: null`)." if quick else "."))
            w("")
        w(f"Targets at 1M: start-up < 2 s: {met_text(met(J['startup_s_1m'], TARGET_STARTUP_S_1M, False))}; "
          f"peak RSS < 300 MB: {met_text(met(J['rss_bytes_1m'], TARGET_RSS_BYTES_1M, False))}. "
          f"Query p99 across sizes (should stay flat): 100k / 10k = "
          f"{num(J['query_p99_ratio_100k_vs_10k'], 2)} ×, 1M / 10k = "
          f"{num(J['query_p99_ratio_1m_vs_10k'], 2)} ×.")
    else:
        w("Not run in this invocation.")
    w("")

    w("### 5. The web application: the plan page, \"Waiting on you\", a group's board and the live stream, with 1,000 plans")
    w("")
    if J["web_page_p99_ms"] is not None:
        w("`councilflow-fill` writes 1,000 Stockport plans (20,000 events); Ravi Patel, their "
          "drafter, signs in through `councilflow sign-in-link` and the link's button, and wrk "
          "sends his session cookie. **Plan page:** `GET /plans/<id>` (the route, the acts the "
          "engine would accept now, sections, history). **Waiting on you:** `GET /`: the first 25 "
          "acts of his worklist (what waits on him across his 1,000 plans, sorted, brought up to "
          "date with the plans changed since his last request). **Board:** "
          "`GET /groups/derbyshire-chief-executives` as Rachel Ingham, the group's officer: its "
          "nine member councils (Derbyshire Dales's plan and the alliance's joint plan among the "
          "1,000, the barriers section agreed by five). Every body is checked. "
          "**Floor:** `GET /plans/<id>.json` with a bearer token, the same process. Fixed rate "
          f"as in part 3 ({web_rate} req/s); saturation: {params.get('sat_conns')} connections, rounds "
          "alternating, median per s.")
        w("")
        rows = []
        for kind, label in (("page", "plan page"), ("home", "Waiting on you"),
                            ("board", "group board, 9 councils")):
            rows.append([label, num(web_rate), num(J[f"web_{kind}_rate_achieved"]),
                         num(J[f"web_{kind}_p50_ms"], 2), num(J[f"web_{kind}_p99_ms"], 2),
                         fail_text(J[f"web_{kind}_failures"]), num(J[f"web_sat_{kind}_per_s"]),
                         f"{num(J[f'web_{kind}_vs_floor'], 2)} × floor"])
        rows.append(["floor: GET /plans/<id>.json", "", "", "", "", fail_text(J["web_sat_floor_failures"]),
                     num(J["web_sat_floor_per_s"]), "baseline"])
        w(table(["page", "target req/s", "achieved req/s", "p50 ms", "p99 ms", "failures",
                 "saturation req/s", "ratio"], rows))
        w("")
        if J["web_sat_home_writing_per_s"] is not None:
            w("**Waiting on you while writes land:** the worklist behind the page is brought up "
              "to date on each request with the plans changed since the last one, so the runs "
              "above (nothing written) are its best case. Here `editSection` lands on 20 of "
              f"Ravi's plans at {num(J['web_writes_per_s'])}/s "
              f"(target {params.get('web_write_rate')}/s, {fail_text(J['web_writes_failures'])} "
              "failures) while the page is read at saturation: "
              f"{num(J['web_sat_home_writing_per_s'])} req/s "
              f"({fail_text(J['web_sat_home_writing_failures'])} failures), "
              f"against {num(J['web_sat_home_per_s'])} req/s with nothing written.")
            w("")
        if J["live_connections"] is not None:
            w(f"**The plan page's live stream** (`bench/live.py`): {num(J['live_connections'])} "
              "streams open on one plan as Maria Costa (20 sessions, 10 streams each), while Ravi Patel's "
              f"`editSection` acts land, {num(params.get('live_acts'))} of them, one every 100 ms. "
              "The time to each browser's event is counted from the moment the act was sent, so "
              "it includes the act's own durable commit; the act's answer and the floor are "
              "measured in the same run, the floor once before the streams open and once with "
              "them open.")
            w("")
            w(table(["measure", "value"], [
                ["server memory per open stream",
                 f"{num(J['live_kib_per_stream'], 1)} KiB (RSS {num(J['live_rss_kib_before'])} KiB "
                 f"before, {num(J['live_rss_kib_open'])} KiB with the streams open)"],
                ["act sent → event at each browser, p50 / p99 / max",
                 f"{num(J['live_delivery_p50_ms'], 2)} / {num(J['live_delivery_p99_ms'], 2)} / "
                 f"{num(J['live_delivery_max_ms'], 2)} ms"],
                ["the act's own answer (durable commit), p50 / p99",
                 f"{num(J['live_act_answer_p50_ms'], 2)} / {num(J['live_act_answer_p99_ms'], 2)} ms"],
                ["floor: GET /plans/<id>.json, p50 (streams closed / open)",
                 f"{num(J['live_floor_idle_p50_ms'], 2)} / {num(J['live_floor_open_p50_ms'], 2)} ms"],
                ["events missed / streams refused / acts refused",
                 f"{num(J['live_events_missed'])} / {num(J['live_streams_refused'])} / "
                 f"{num(J['live_acts_failed'])}"],
            ]))
            w("")
        if web_bytes:
            w("**Bytes** (as sent to a browser, gzip; the only JavaScript is the live region's): plan page "
              f"{num(web_bytes['page_html'])} B of HTML, {num(web_bytes['page_html_gzip'])} B gzipped; "
              f"Waiting on you {num(web_bytes['home_html'])} B, {num(web_bytes['home_html_gzip'])} B "
              f"gzipped; the stylesheet {num(web_bytes['css'])} B, {num(web_bytes['css_gzip'])} B "
              f"gzipped; live.js {num(web_bytes['js'])} B. A first visit (plan page, stylesheet, "
              "script): "
              f"{num(J['web_first_visit_gzip_bytes'])} B.")
    else:
        w("Not run in this invocation.")
    w("")

    w("### Targets")
    w("")
    w(table(["target", "this run", "met"], [[t[0], t[1], met_text(t[2])] for t in targets]))
    w("")
    w("Last line of this run:")
    w("")
    for key, value in J.items():
        if isinstance(value, float):
            J[key] = round(value, 4) if abs(value) < 100 else round(value, 1)
    line = json.dumps(J, separators=(",", ":"))
    w(f"`{line}`")
    w(END)
    section = "\n".join(md) + "\n"

    # BENCHMARKS.md: replace the marked section, keep everything else.
    try:
        with open(args.benchmarks) as f:
            text = f.read()
    except OSError:
        text = "# Benchmarks\n"
    if START in text and END in text:
        before = text[:text.index(START)]
        after = text[text.index(END) + len(END):]
        text = before + section.rstrip("\n") + after
        if not text.endswith("\n"):
            text += "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(args.benchmarks, "w") as f:
        f.write(text)

    print(section)
    if J["failures_total"]:
        print(f"bench/run: {J['failures_total']} FAILED requests/transactions in this run",
              file=sys.stderr)
    print(line)
    sys.stdout.flush()
    return 3 if J["failures_total"] else 0


if __name__ == "__main__":
    sys.exit(main())
