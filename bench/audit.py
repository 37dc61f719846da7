#!/usr/bin/env python3
"""Benchmark for the auditor's commands (issue 6). Prints its figures; asserts nothing.

A registry of N active keys (default 10,000: one real RSA key cloned with SQL into N
slots over 100 domains), then, 5 runs each, wall time and peak RSS of:
  - dkimctl audit --no-dns --format json   (the register and the rules that need no DNS)
  - dkimctl metrics                        (what a textfile-collector cron job runs)
  - dkimctl audit verify                   (the event chain, then the register replayed from it)
No target is set by the issue; these are for information and to catch regressions.

Usage: bench/audit.py [--keys 10000] [--no-build]
"""
import argparse
import json
import sqlite3
import statistics
import subprocess
import sys

from benchlib import DKIMCTL, build_release, fresh_state, run_measured


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build_release()
    work, state, env = fresh_state("dkimctl-bench-audit-")
    env = dict(env, DKIMCTL_NOW="2026-11-23T10:00:00Z")
    subprocess.run([DKIMCTL, "new", "--domain", "d0.bench.example", "--provider", "self-hosted", "--selector", "seed"],
                   env=env, check=True, capture_output=True)
    subprocess.run([DKIMCTL, "activate", "seed", "--domain", "d0.bench.example", "--force", "--reason", "bench"],
                   env=env, check=True, capture_output=True)
    registry = f"{state}/registry.sqlite"
    connection = sqlite3.connect(registry)
    with connection:
        connection.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO slot (domain, provider, usage, owner, created_at)
            SELECT 'd' || (i % 100) || '.bench.example', 'self-hosted', 'u' || i, 'team@example.org', '2026-11-23 10:00:00.000'
            FROM n
            """, (args.keys - 1,))
        connection.execute(
            """
            INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint, private_key_path,
                             ttl, created_at, published_at, activated_at, expires_at)
            SELECT s.id, s.domain, 'sel-' || s.usage, k.algorithm, k.bits, 'active', k.public_key, k.fingerprint,
                   k.private_key_path, k.ttl, k.created_at, k.created_at, k.activated_at, k.expires_at
            FROM slot AS s, (SELECT * FROM key WHERE selector = 'seed') AS k
            WHERE s.usage LIKE 'u%'
            """)
        # Rows cloned with SQL have no events; let the next run anchor them as it anchors an
        # upgraded registry's rows (one baseline event per row), so 'audit verify' replays
        # a register of N keys instead of reporting N rows inserted outside dkimctl.
        connection.execute("DELETE FROM grdb_migrations WHERE identifier = 'v5-register-snapshots'")
    total = connection.execute("SELECT count(*) FROM key WHERE state = 'active'").fetchone()[0]
    connection.close()

    # The output is checked once: every key is in the report.
    subprocess.run([DKIMCTL, "audit", "--no-dns", "--format", "json", "--output", f"{work}/audit.json"], env=env, capture_output=True)
    audited = int(subprocess.run(
        [sys.executable, "-c", "import json, sys; print(len(json.load(open(sys.argv[1]))['keys']))", f"{work}/audit.json"],
        check=True, capture_output=True, text=True).stdout)
    if audited != total:
        sys.exit(f"audit reported {audited} keys, the registry holds {total}")

    print(f"dkimctl auditor benchmark: {total:,} active keys over 100 domains, 5 runs each")
    for name, argv, accepted in [
        ("audit --no-dns --format json", [DKIMCTL, "audit", "--no-dns", "--format", "json"], (0, 3)),
        ("metrics", [DKIMCTL, "metrics"], (0,)),
        ("audit verify", [DKIMCTL, "audit", "verify"], (0,)),
    ]:
        walls, peaks = [], []
        for _ in range(5):
            elapsed, peak, status, stderr = run_measured(argv, env=env)
            if status not in accepted:
                sys.exit(f"dkimctl {name} failed with status {status}: {stderr}")
            walls.append(elapsed)
            peaks.append(peak)
        print(f"  {name:30s} wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}), peak RSS {max(peaks) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
