#!/usr/bin/env python3
"""`dkimctl list --format json` over 100,000 keys, on PostgreSQL and on SQLite beside it.

One real key is made with `dkimctl new` on each registry, then cloned with SQL into
100,000 rows (no 100,000 keygens); the listing is timed 5 times on each (wall median, peak RSS).
Target (issue 13): < 2 s on PostgreSQL.

Usage: bench/registry_list.py [--keys 100000] [--no-build]
Needs: python3, postgresql, a Swift toolchain (builds the release binary).
"""
import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import DKIMCTL, Postgres, build_release, fresh_state, measure_listing

CLONE = """
INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint, private_key_path, ttl, created_at)
SELECT k.slot_id, 'd' || (n.i % 500) || '.bench.example', 'sel-' || n.i, k.algorithm, k.bits, k.state, k.public_key,
       k.fingerprint, k.private_key_path, k.ttl, k.created_at
FROM {series}, (SELECT * FROM key WHERE algorithm = 'rsa' LIMIT 1) AS k
"""


def measure(label, env, expected):
    listed, walls, peaks = measure_listing(DKIMCTL, env, os.path.join(env["DKIMCTL_HOME"], "..", f"list-{label}.json"))
    if listed != expected:
        sys.exit(f"{label}: list printed {listed} keys, the registry holds {expected}")
    print(f"   {label:10} wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}), peak RSS {max(peaks) / 1024:.1f} MiB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build_release()
    print(f"dkimctl list --format json over {args.keys:,} keys ({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}), 5 runs each")
    new = ["new", "--domain", "bench.example", "--provider", "self-hosted", "--usage", "noreply", "--format", "value"]

    work, state, env = fresh_state("dkimctl-list.")
    subprocess.run([DKIMCTL] + new, env=env, check=True, capture_output=True)
    connection = sqlite3.connect(os.path.join(state, "registry.sqlite"))
    with connection:
        connection.execute(
            CLONE.format(series="(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n) AS n"),
            (args.keys - 1,))
    connection.close()
    measure("SQLite", env, args.keys)

    server = Postgres()
    try:
        server.psql("CREATE DATABASE bench")
        pg_env = dict(env, DKIMCTL_REGISTRY=server.url("bench"), DKIMCTL_HOME=os.path.join(work, "pg-state"))
        subprocess.run([DKIMCTL, "init", "--owner", "bench@example.org"], env=pg_env, check=True, capture_output=True)
        subprocess.run([DKIMCTL] + new, env=pg_env, check=True, capture_output=True)
        server.psql(CLONE.format(series=f"generate_series(1, {args.keys - 1}) AS n(i)"), database="bench")
        measure("PostgreSQL", pg_env, args.keys)
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
