#!/usr/bin/env python3
"""Benchmark for fleets (issue 13): slots defined in the registry. Prints its figures; asserts nothing.

On the embedded SQLite registry (PostgreSQL is not built yet: its column stays empty):
1. `slot import` of N registry-defined slots (default 100,000: 100 domains of 1,000
   slots, Ed25519) from JSON lines, in one transaction.
2. Setting up: the first key of every slot created, published (zonefile publisher,
   one fragment per domain, served by a local BIND), proved and activated.
3. A `rotate` tick over the N slots with nothing due. Target: under 5 s.
4. `list --format json` over the N keys. Target: under 2 s.

Usage: bench/fleet.py [--slots 100000] [--no-build]
Needs: python3, BIND (named), a Swift toolchain. Setting up 100,000 keys takes minutes.
"""
import argparse
import json
import os
import statistics
import sys
import time

from benchlib import DKIMCTL, build_release, fresh_state, run_measured
from rotate import at, config_text, rotate, start_named


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slots", type=int, default=100_000)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build_release()
    print(f"dkimctl fleet benchmark, SQLite registry ({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})")

    work, state, env = fresh_state("dkimctl-bench-fleet.")
    domains = [f"c{i:03d}.fleet.example" for i in range(max(1, args.slots // 1000))]
    per_domain = args.slots // len(domains)
    named, port = start_named(work, domains)
    try:
        config = os.path.join(work, "dkimctl.yaml")
        with open(config, "w") as out:
            out.write(config_text(domains, 0, port, work, "ed25519", "zonefile"))
        slots = os.path.join(work, "slots.jsonl")
        with open(slots, "w") as out:
            for domain in domains:
                for i in range(per_domain):
                    out.write(json.dumps({"domain": domain, "provider": "self-hosted", "usage": f"u{i:04d}"}) + "\n")
        total = len(domains) * per_domain

        elapsed, peak, status, stderr = run_measured([DKIMCTL, "slot", "import", slots, "--config", config], env=env)
        if status != 0:
            sys.exit(f"slot import failed: {stderr[-2000:]}")
        print(f"\n1. slot import, {total:,} slots in one transaction: {elapsed:.1f} s "
              f"({total / elapsed:,.0f} slots/s), peak RSS {peak / 1024:.1f} MiB")

        for label, hours in (("first keys created, published, proved", 0), ("all activated", 1)):
            elapsed, peak, status, stderr = rotate(env, config, at(hours))
            print(f"2. setup: {label}: {elapsed:.1f} s (exit {status}, peak RSS {peak / 1024:.1f} MiB)")
            if status != 0:
                sys.exit(f"setup tick failed: {stderr[-2000:]}")

        times, peaks = [], []
        for run in range(3):
            elapsed, peak, status, stderr = rotate(env, config, at(2 + run))
            if status != 0:
                sys.exit(f"idle tick exited {status}: {stderr[-2000:]}")
            times.append(elapsed)
            peaks.append(peak)
        print(f"\n3. rotate tick, {total:,} registry-defined slots, nothing due: median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}), peak RSS {max(peaks) / 1024:.1f} MiB  [target < 5 s]")

        listing = os.path.join(work, "list.json")
        times = []
        for _ in range(3):
            elapsed, peak, status, stderr = run_measured([DKIMCTL, "list", "--format", "json"], env=env, stdout_path=listing)
            times.append(elapsed)
        with open(listing) as handle:
            active = sum(1 for line in handle if '"state":"active"' in line)
        print(f"4. list --format json, {active:,} active keys: median {statistics.median(times):.2f} s, "
              f"peak RSS {peak / 1024:.1f} MiB  [target < 2 s]")
        print("\n   PostgreSQL: not built yet (issue 13): no figures.")
    finally:
        named.terminate()
        named.wait()


if __name__ == "__main__":
    main()
