#!/usr/bin/env python3
"""Saving project forms in the staff workspace while the public portal is under load.

Called by bench/workspace.sh with a database that holds a (synthetic) national set. For
USERS municipalities it rolls the latest edition into a draft and adds a planning account;
then it serves the database and measures, in one run:

  1. the portal alone: wrk on a policy page (requests/s, p99);
  2. the same wrk while USERS people save project forms through the admin API (GET with its
     ETag, then PATCH with If-Match: validation + store + audit), each waiting THINK seconds
     between saves as people do; save latency p50/p90/p99/max; then the portal alone again
     (the spread of the two runs alone is the machine's noise); then the portal at a fixed
     rate below capacity (bench/paced.lua), alone and while the same people save;
  3. one person saving back to back with nothing else running (the latency of one save);
  4. USERS people saving back to back (the single writer's throughput, with queueing).

Prints Markdown. Standard library only; nothing leaves 127.0.0.1.
"""
import argparse
import http.client
import os
import json
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

PASSWORD = "bench password 12345"
PACED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paced.lua")


def run(cmd, stdin=None):
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


def label(first, last):
    return f"R{first - 2018}-R{last - 2018}"


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def latency(out, percent):
    found = re.search(percent + r"%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return float(found.group(1)) * scale


def wrk(url, duration, paced=False):
    """Saturating (as many requests as the server answers), or paced: 100 connections each
    waiting 10 ms between requests, a fixed rate of about 10,000 requests/s below capacity."""
    cmd = ["wrk", "-t2", "-c50", f"-d{duration}s", "--latency", url]
    env = None
    if paced:
        cmd = ["wrk", "-t2", "-c100", f"-d{duration}s", "--latency", "-s", PACED, url]
        env = dict(os.environ, DELAY_MS="10")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, latency(out, "50"), latency(out, "99")


class User(threading.Thread):
    def __init__(self, port, login, code, slug, ids, think, stop):
        super().__init__(daemon=True)
        self.port, self.login, self.code, self.slug = port, login, code, slug
        self.ids, self.think, self.stop = ids, think, stop
        self.latencies, self.failures = [], []

    def request(self, conn, method, path, body=None, headers=None):
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"content-type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        status, headers, body = self.request(conn, "POST", "/api/admin/v1/session",
                                             {"login": self.login, "password": PASSWORD})
        if status != 200:
            self.failures.append(f"sign-in {status} {body[:200]!r}")
            return
        cookie = headers["set-cookie"].split(";")[0]
        csrf = json.loads(body)["csrf_token"]
        auth = {"cookie": cookie, "x-csrf-token": csrf}
        n = 0
        while not self.stop.is_set():
            project = random.choice(self.ids)
            path = f"/api/admin/v1/municipalities/{self.code}/editions/{self.slug}/projects/{project}"
            status, headers, _ = self.request(conn, "GET", path, headers=auth)
            if status != 200:
                self.failures.append(f"GET {status}")
                continue
            n += 1
            started = time.perf_counter()
            status, _, body = self.request(
                conn, "PATCH", path,
                {"summary": f"ベンチマークの保存 {self.login} {n}", "comment": "bench"},
                headers={**auth, "if-match": headers["etag"]})
            elapsed = (time.perf_counter() - started) * 1000
            if status == 200:
                self.latencies.append(elapsed)
            else:
                self.failures.append(f"PATCH {status} {body[:200]!r}")
            if self.think:
                self.stop.wait(self.think * random.uniform(0.5, 1.5))


def saves(port, users, think, duration):
    stop = threading.Event()
    threads = [User(port, u.login, u.code, u.slug, u.ids, think, stop) for u in users]
    for t in threads:
        t.start()
    return threads, stop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--db", required=True, help="SQLite file")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--think", type=float, default=1.0)
    args = parser.parse_args()
    url = f"sqlite://{args.db}"

    with sqlite3.connect(args.db) as db:
        latest = db.execute(
            "SELECT e.municipality_code, MAX(e.first_year), e.last_year - e.first_year FROM edition e "
            "GROUP BY e.municipality_code ORDER BY e.municipality_code").fetchall()
    chosen = random.Random(1).sample(latest, min(args.users, len(latest)))
    users = []
    for i, (code, first, length) in enumerate(chosen):
        source, target = label(first, first + length), label(first + 1, first + 1 + length)
        run([args.bin, "--db", url, "roll", "--municipality", code, "--from", source, "--to", target])
        login = f"bench{i:02d}"
        run([args.bin, "--db", url, "user", "add", login, "--role", "planning",
             "--municipality", code, "--password-stdin"], stdin=PASSWORD + "\n")
        with sqlite3.connect(args.db) as db:
            ids = [r[0] for r in db.execute(
                "SELECT p.stable_id FROM project p JOIN edition e ON e.id = p.edition_id "
                "WHERE e.municipality_code = ? AND e.first_year = ?", (code, first + 1))]
        users.append(User(0, login, code, target.lower(), ids, 0, None))

    server = subprocess.Popen([args.bin, "--db", url, "serve", "--addr", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in server.stdout:
            found = re.search(r"serving http://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
                break
        started = time.time()
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        loaded = time.time() - started
        public_code, public_first, public_length = chosen[0]
        page = f"http://127.0.0.1:{port}/{public_code}/{label(public_first, public_first + public_length).lower()}/policies/1-1"
        subprocess.run(["curl", "-fsS", "-o", "/dev/null", page], check=True)

        alone_rps, _, alone_p99 = wrk(page, args.duration)
        threads, stop = saves(port, users, args.think, args.duration)
        busy_rps, _, busy_p99 = wrk(page, args.duration)
        stop.set()
        for t in threads:
            t.join()
        # Alone again: the spread between the two runs alone is the noise of the machine.
        after_rps, _, after_p99 = wrk(page, args.duration)
        paced = [x for t in threads for x in t.latencies]
        # The portal at a fixed rate below capacity, alone and while the same people save.
        fixed_alone = wrk(page, args.duration, paced=True)
        more, more_stop = saves(port, users, args.think, args.duration)
        fixed_busy = wrk(page, args.duration, paced=True)
        more_stop.set()
        for t in more:
            t.join()
        at_fixed_rate = [x for t in more for x in t.latencies]
        failures_fixed = [x for t in more for x in t.failures]
        failures = [x for t in threads for x in t.failures] + failures_fixed
        def back_to_back(people):
            threads, stop = saves(port, people, 0, args.duration)
            time.sleep(args.duration)
            stop.set()
            for t in threads:
                t.join()
            return [x for t in threads for x in t.latencies], [x for t in threads for x in t.failures]

        single, failed = back_to_back(users[:1])
        failures += failed
        flat, failed = back_to_back(users)
        failures += failed
    finally:
        server.terminate()
        server.wait()

    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"## Saving project forms while the portal is read ({len(latest)} municipalities, SQLite)\n")
    print(f"CPU: {cpu}; {len(users)} planning accounts, each in its own draft; "
          f"portal loaded in {loaded:.1f} s; wrk -t2 -c50 {args.duration} s on {page.split(str(port))[1]}.\n")
    print("| run | saves | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in [(f"{len(users)} users, {args.think:g} s between saves, portal under wrk (saturated)", paced),
                         (f"{len(users)} users, {args.think:g} s between saves, portal at a fixed rate", at_fixed_rate),
                         ("1 user saving back to back (nothing else running)", single),
                         (f"{len(users)} users saving back to back (no wrk)", flat)]:
        print(f"| {name} | {len(values)} | {percentile(values, 50):.1f} | {percentile(values, 90):.1f} "
              f"| {percentile(values, 99):.1f} | {max(values) if values else float('nan'):.1f} |")
    print()
    print("| portal policy page | requests/s | p99 ms |")
    print("|---|---:|---:|")
    baseline = (alone_rps + after_rps) / 2
    print(f"| alone, before the saves | {alone_rps:,.0f} | {alone_p99:.2f} |")
    print(f"| while {len(users)} users save ({busy_rps / baseline:.0%} of alone) | {busy_rps:,.0f} | {busy_p99:.2f} |")
    print(f"| alone, after the saves | {after_rps:,.0f} | {after_p99:.2f} |")
    print()
    print("| portal policy page at a fixed rate (wrk -c100, 10 ms between requests) | requests/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    print(f"| alone | {fixed_alone[0]:,.0f} | {fixed_alone[1]:.2f} | {fixed_alone[2]:.2f} |")
    print(f"| while {len(users)} users save | {fixed_busy[0]:,.0f} | {fixed_busy[1]:.2f} | {fixed_busy[2]:.2f} |")
    if failures:
        print(f"\n{len(failures)} failed request(s), first: {failures[0]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
