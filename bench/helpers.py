#!/usr/bin/env python3
"""Small helpers for bench/run (Python 3 standard library only).

  helpers.py port
      prints a free TCP port on 127.0.0.1

  helpers.py serve --url URL --ready FILE --log FILE [--timeout S] -- COMMAND...
      starts COMMAND (the server), polls URL every 5 ms until it answers 200, then writes
      "<server pid> <seconds from spawn to the first 200>" to FILE (atomically) and stays as the
      server's parent until it exits, passing SIGTERM/SIGINT on. Exits with the server's status,
      or 1 (killing it) if it never answered within the timeout.

  helpers.py last-json FILE
      prints the last line of FILE that parses as a JSON object (exit 1 if none)
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import http.client
import urllib.parse


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=1)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def serve(args):
    sep = args.index("--")
    opts, command = args[:sep], args[sep + 1:]
    opt = {opts[i]: opts[i + 1] for i in range(0, len(opts), 2)}
    url = urllib.parse.urlsplit(opt["--url"])
    timeout = float(opt.get("--timeout", "300"))
    log = open(opt["--log"], "ab")
    start = time.monotonic()
    child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def forward(signum, _frame):
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        if healthy(url.hostname, url.port, url.path or "/"):
            seconds = time.monotonic() - start
            break
        if child.poll() is not None:
            print(f"helpers.py serve: the server exited ({child.returncode}) before answering",
                  file=sys.stderr)
            return 1
        if time.monotonic() - start > timeout:
            print(f"helpers.py serve: no 200 from {opt['--url']} within {timeout:.0f} s",
                  file=sys.stderr)
            child.kill()
            child.wait()
            return 1
        time.sleep(0.005)
    tmp = opt["--ready"] + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{child.pid} {seconds:.6f}\n")
    os.rename(tmp, opt["--ready"])
    return child.wait()


def last_json(path):
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                print(json.dumps(value))
                return 0
    return 1


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "port":
        print(free_port())
        return 0
    if cmd == "serve":
        return serve(args)
    if cmd == "last-json":
        return last_json(args[0])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
