#!/usr/bin/env python3
"""bench/live.py: the plan page's live stream with many browsers on it (standard library only).

  live.py --port P --cookies NAME=VALUE,... --plan ID --token T --pid PID
          [--connections 200] [--acts 50] [--interval 0.1]

1. The floor: GET /plans/ID.json round trips, one at a time (the same process, no stream open).
2. Opens CONNECTIONS event streams (GET /plans/ID/live, as the signed-in reader of COOKIES, one
   session per browser: the server keeps at most 16 streams per session) and
   reads the server's resident memory (/proc/PID/status) before and after: memory per stream.
3. Records ACTS editSection mutations on the plan (bearer TOKEN, another person than the reader),
   one every INTERVAL seconds, and times each act's event on every stream from the moment the act
   was sent ("commit to the browser's event", an upper bound: it includes the write's own
   durable commit), beside the act's own answer and the floor again, with the streams open.

Prints one JSON object as its last line. Times are in milliseconds. A stream that misses an event
counts as a failure (it should never happen: the ledger's subscription is gapless).
"""

import argparse
import asyncio
import json
import statistics
import time

EDIT = ('{"query":"mutation($i: EditSectionInput!) { editSection(input: $i) { plan { revision } } }",'
        '"variables":{"i":{"planId":"%s","sectionId":"achievements","text":"Live bench act %d."}}}')


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def settled_rss_kib(pid):
    """The median of five readings over two seconds."""
    readings = []
    for _ in range(5):
        readings.append(rss_kib(pid))
        time.sleep(0.4)
    return statistics.median(readings)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def request(port, method, path, headers, body=b""):
    """One request on its own connection; (status, body, milliseconds)."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    ms = (time.perf_counter() - start) * 1000
    status = int(data.split(b" ", 2)[1])
    return status, data, ms


class Stream:
    """One browser's event stream: the arrival time of each event, in order."""

    def __init__(self):
        self.arrivals = []
        self.task = None
        self.ready = asyncio.Event()
        self.error = None

    async def run(self, port, path, cookie):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                          "Accept: text/event-stream\r\n\r\n").encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
            self.ready.set()
            rest = b""
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                now = time.perf_counter()
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if line.startswith(b"id:"):
                        self.arrivals.append(now)
        except Exception as e:  # noqa: BLE001 (reported, counted as a failed stream)
            self.error = str(e)
            self.ready.set()


async def floor(port, plan, token, n):
    times = []
    for _ in range(n):
        status, _, ms = await request(port, "GET", f"/plans/{plan}.json",
                                      {"Authorization": f"Bearer {token}"})
        if status != 200:
            raise RuntimeError(f"the floor answered {status}")
        times.append(ms)
    return times


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cookies", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--acts", type=int, default=50)
    ap.add_argument("--interval", type=float, default=0.1)
    a = ap.parse_args()

    floor_idle = await floor(a.port, a.plan, a.token, 200)
    # Resident memory settles a while after load (the allocator gives freed pages back late).
    await asyncio.sleep(2)
    rss_before = settled_rss_kib(a.pid)
    cookies = a.cookies.split(",")
    streams = [Stream() for _ in range(a.connections)]
    for i, s in enumerate(streams):
        cookie = cookies[i % len(cookies)]
        s.task = asyncio.create_task(s.run(a.port, f"/plans/{a.plan}/live", cookie))
    await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 60)
    refused = [s.error for s in streams if s.error]
    await asyncio.sleep(1)
    rss_open = settled_rss_kib(a.pid)

    sent, acked, failed_acts = [], [], 0
    for i in range(a.acts):
        t = time.perf_counter()
        status, body, ms = await request(
            a.port, "POST", "/graphql",
            {"Authorization": f"Bearer {a.token}", "Content-Type": "application/json"},
            (EDIT % (a.plan, i)).encode())
        if status != 200 or b'"errors"' in body:
            failed_acts += 1
        sent.append(t)
        acked.append(ms)
        await asyncio.sleep(a.interval)
    floor_open = await floor(a.port, a.plan, a.token, 200)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(len(s.arrivals) < a.acts for s in streams
                                                 if not s.error):
        await asyncio.sleep(0.05)
    delivery, missed = [], 0
    for s in streams:
        if s.error:
            continue
        for i, t in enumerate(sent):
            if i < len(s.arrivals):
                delivery.append((s.arrivals[i] - t) * 1000)
            else:
                missed += 1
    rss_end = rss_kib(a.pid)
    for s in streams:
        s.task.cancel()

    print(json.dumps({
        "connections": a.connections,
        "acts": a.acts,
        "streams_refused": len(refused),
        "refusals": refused[:3],
        "acts_failed": failed_acts,
        "events_missed": missed,
        "rss_kib_before": rss_before,
        "rss_kib_open": rss_open,
        "rss_kib_end": rss_end,
        "kib_per_stream": (rss_open - rss_before) / a.connections,
        "delivery_p50_ms": percentile(delivery, 50),
        "delivery_p99_ms": percentile(delivery, 99),
        "delivery_max_ms": max(delivery) if delivery else None,
        "act_answer_p50_ms": percentile(acked, 50),
        "act_answer_p99_ms": percentile(acked, 99),
        "floor_idle_p50_ms": percentile(floor_idle, 50),
        "floor_open_p50_ms": percentile(floor_open, 50),
        "floor_open_p99_ms": percentile(floor_open, 99),
        "floor_idle_mean_ms": statistics.mean(floor_idle),
    }))


if __name__ == "__main__":
    asyncio.run(main())
