#!/usr/bin/env python3
"""Benchmark for the DNS proof (issue 3). Prints its figures; asserts nothing.

A zone with N DKIM records (default 10,000) served by a local BIND, all
registered: `dkimctl verify --all --nameserver 127.0.0.1:PORT` against a
sequential loop of `dig +short TXT` over the same names, in the same run.
Targets: at least 20x faster than the dig loop, at least 2,000 selectors per
second on a 2-core machine; peak memory reported.

Usage: bench/verify.py [--keys 10000] [--no-build] [--skip-dig]
Needs: python3, BIND (named) and dig (bind9, bind9-dnsutils), a Swift toolchain.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time

from benchlib import DKIMCTL, build_release, free_port, fresh_state, run_measured



def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--skip-dig", action="store_true", help="leave out the (slow) dig loop")
    args = parser.parse_args()

    if not args.no_build:
        build_release()
    dkimctl = DKIMCTL
    work, state, env = fresh_state("dkimctl-bench-verify.")
    value = subprocess.run(
        [dkimctl, "new", "--domain", "bench.example", "--provider", "self-hosted", "--selector", "sel-0",
         "--format", "value"], env=env, check=True, capture_output=True, text=True).stdout.strip()

    # Register N keys (one real key, its row cloned with SQL) and serve all their records.
    registry = sqlite3.connect(os.path.join(state, "registry.sqlite"))
    with registry:
        registry.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint,
                             private_key_path, ttl, created_at)
            SELECT k.slot_id, k.domain, 'sel-' || n.i, k.algorithm, k.bits, k.state, k.public_key, k.fingerprint,
                   k.private_key_path, k.ttl, k.created_at
            FROM n, (SELECT * FROM key LIMIT 1) AS k
            """, (args.keys - 1,))
    registry.close()
    strings = " ".join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))
    port = free_port()
    zone = os.path.join(work, "bench.example.zone")
    with open(zone, "w") as out:
        out.write("$ORIGIN bench.example.\n$TTL 3600\n"
                  "@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\n")
        for i in range(args.keys):
            out.write(f"sel-{i}._domainkey 1800 IN TXT ( {strings} )\n")
    conf = os.path.join(work, "named.conf")
    with open(conf, "w") as out:
        out.write(f"""options {{ directory "{work}"; pid-file "{work}/named.pid"; session-keyfile "{work}/session.key";
  listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }}; recursion no; dnssec-validation no; notify no; }};
controls {{ }};
zone "bench.example" {{ type primary; file "{zone}"; }};
""")
    named = subprocess.Popen(["named", "-g", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            # Ready when the first and the last records answer: named answers
            # SERVFAIL for a moment after start while a large zone settles.
            probes = [subprocess.run(["dig", "+short", "+time=1", "+tries=1", "-p", str(port), "@127.0.0.1",
                                      f"sel-{i}._domainkey.bench.example", "TXT"], capture_output=True, text=True)
                      for i in (0, args.keys - 1)]
            if all(probe.stdout.strip() for probe in probes):
                time.sleep(1)
                break
            time.sleep(0.1)
        else:
            sys.exit("named did not start")

        print(f"dkimctl verify benchmark ({os.cpu_count()} cores, {args.keys:,} selectors, {time.strftime('%Y-%m-%d')})")
        report_path = os.path.join(work, "verify.json")
        elapsed, peak, status, stderr = run_measured(
            [dkimctl, "verify", "--all", "--nameserver", f"127.0.0.1:{port}", "--format", "json"], env=env,
            stdout_path=report_path)
        if status != 0:
            with open(report_path) as report:
                keys = json.load(report)["keys"]
            details = [server["detail"] for key in keys for server in key["servers"] if server["status"] != "pass"]
            problems = [problem for key in keys for problem in key["problems"]]
            sys.exit(f"dkimctl verify --all exited {status}: {stderr.strip()} {len(details)} servers not passing, "
                     f"e.g. {details[:3]}; problems {problems[:3]}")
        states = sqlite3.connect(os.path.join(state, "registry.sqlite")).execute(
            "SELECT state, count(*) FROM key GROUP BY state").fetchall()
        print(f"\ndkimctl verify --all, first check (every key pending -> published): {elapsed:.2f} s, "
              f"{args.keys / elapsed:,.0f} selectors/s, peak RSS {peak / 1024:.1f} MiB (registry afterwards: {dict(states)})")
        again, again_peak, status, stderr = run_measured(
            [dkimctl, "verify", "--all", "--nameserver", f"127.0.0.1:{port}", "--format", "json"], env=env)
        if status != 0:
            sys.exit(f"second dkimctl verify --all exited {status}: {stderr.strip()}")
        print(f"dkimctl verify --all, re-check (no state change): {again:.2f} s, "
              f"{args.keys / again:,.0f} selectors/s, peak RSS {again_peak / 1024:.1f} MiB")

        if args.skip_dig:
            return
        start = time.perf_counter()
        for i in range(args.keys):
            subprocess.run(["dig", "+short", "-p", str(port), "@127.0.0.1", f"sel-{i}._domainkey.bench.example", "TXT"],
                           stdout=subprocess.DEVNULL, check=True)
        dig = time.perf_counter() - start
        print(f"sequential dig +short TXT loop: {dig:.2f} s, {args.keys / dig:,.0f} names/s")
        print(f"speed-up over the dig loop: {dig / elapsed:.1f}x (first check), {dig / again:.1f}x (re-check)"
              "  (targets: >= 20x, >= 2,000 selectors/s)")
    finally:
        named.terminate()
        named.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
