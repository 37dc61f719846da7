#!/usr/bin/env python3
"""Benchmarks for the foundation slice (issue 2). Prints its figures; asserts nothing.

  1. `dkimctl new` RSA-2048 vs `openssl genpkey` RSA-2048, alternating, N pairs:
     medians and their ratio (target <= 1.1).
  2. `dkimctl new --algorithm ed25519` wall time: the tool's own overhead
     (start, registry, file writes). Target: median <= 20 ms, at most 3 syncs
     (counted with strace over --sync-runs news when it is installed). And
     `dkimctl --version`: start-up alone. Target: median <= 6 ms. Beside it, what a C
     program linking the same shared libraries takes (the floor before main).
  3. `dkimctl list --format json` over a registry of 100,000 keys (rows cloned
     from one real key with SQL, not 100,000 keygens): wall time and peak RSS.
     Target: < 1 s and < 150 MiB.

Usage: bench/foundation.py [--pairs 40] [--keys 100000] [--ed25519-runs 30] [--sync-runs 40] [--no-build]
Needs: python3, openssl, a Swift toolchain (builds the release binary).
"""
import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

from benchlib import DKIMCTL, build_release, fresh_state, measure_listing, run_measured


def c_floor(dkimctl, work):
    """Builds a C program that prints a line and links the shared libraries dkimctl loads
    (from ldd), and the same without them; returns (library names, program path) or None."""
    compiler = shutil.which("cc") or shutil.which("clang")
    if not compiler:
        return None
    listing = subprocess.run(["ldd", dkimctl], capture_output=True, text=True).stdout
    libraries = sorted({line.split()[0] for line in listing.splitlines()
                        if "=>" in line and line.split()[0].startswith("lib") and not line.split()[0].startswith(("libc.so", "libm.so"))})
    source = os.path.join(work, "floor.c")
    with open(source, "w") as handle:
        handle.write('#include <stdio.h>\nint main(void) { puts("0.1.0"); return 0; }\n')
    program = os.path.join(work, "floor")
    links = [f"-l:{name}" for name in libraries]
    built = subprocess.run([compiler, "-O2", source, "-o", program, "-Wl,--no-as-needed", *links], capture_output=True)
    bare = subprocess.run([compiler, "-O2", source, "-o", program + "-bare"], capture_output=True)
    if built.returncode != 0 or bare.returncode != 0:
        return None
    return libraries, program


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--ed25519-runs", type=int, default=30)
    parser.add_argument("--sync-runs", type=int, default=40)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()

    if not args.no_build:
        build_release()
    dkimctl = DKIMCTL
    work, state, env = fresh_state("dkimctl-bench.")

    print(f"dkimctl foundation benchmarks ({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})")

    # 1. RSA-2048: dkimctl new vs openssl genpkey, alternating which goes first.
    ours, theirs = [], []
    for i in range(args.pairs):
        new = [dkimctl, "new", "--domain", "bench.example", "--provider", "self-hosted",
               "--usage", f"rsa{i}", "--format", "value"]
        genpkey = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                   "-out", os.path.join(work, f"openssl-{i}.pem")]
        order = [(new, ours), (genpkey, theirs)]
        if i % 2:
            order.reverse()
        for argv, samples in order:
            elapsed, _, status, _ = run_measured(argv, env=env)
            if status != 0:
                sys.exit(f"{argv[0]} failed with status {status}")
            samples.append(elapsed)
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"\n1. RSA-2048 keygen, {args.pairs} alternating pairs")
    print(f"   dkimctl new        median {ours_median * 1000:7.1f} ms  (min {min(ours) * 1000:.1f}, max {max(ours) * 1000:.1f})")
    print(f"   openssl genpkey    median {theirs_median * 1000:7.1f} ms  (min {min(theirs) * 1000:.1f}, max {max(theirs) * 1000:.1f})")
    print(f"   ratio dkimctl/openssl: {ours_median / theirs_median:.2f}  (target <= 1.10)")

    # 2. Ed25519: the tool's own overhead.
    times = []
    for i in range(args.ed25519_runs):
        elapsed, _, status, _ = run_measured(
            [dkimctl, "new", "--domain", "bench.example", "--provider", "self-hosted", "--usage", f"ed{i}",
             "--algorithm", "ed25519", "--format", "value"], env=env)
        if status != 0:
            sys.exit(f"dkimctl new --algorithm ed25519 failed with status {status}")
        times.append(elapsed)
    times.sort()
    print(f"\n2. dkimctl new --algorithm ed25519, {args.ed25519_runs} runs")
    print(f"   median {statistics.median(times) * 1000:.1f} ms, p90 {times[int(len(times) * 0.9) - 1] * 1000:.1f} ms  (target median <= 20 ms)")
    # The syncs of more news, counted by strace (fsync, fdatasync and the like), with what they sync.
    # One run is not enough: a commit that finds the WAL past 1 MiB folds it back (more syncs, once per MiB).
    if shutil.which("strace"):
        counts, typical, folding = [], None, None
        for i in range(args.sync_runs):
            trace = os.path.join(work, f"strace-{i}.txt")
            subprocess.run(["strace", "-f", "-qq", "-y", "-e", "trace=fsync,fdatasync,syncfs,sync_file_range,sync,msync", "-o", trace,
                            dkimctl, "new", "--domain", "bench.example", "--provider", "self-hosted", "--usage", f"syncs{i}",
                            "--algorithm", "ed25519", "--format", "value"], env=env, check=True, capture_output=True)
            # Only the calls themselves: not "<... resumed>" halves nor a thread's "<detached ...>" exit.
            calls = [line.split(" ", 1)[-1].strip() for line in open(trace).read().splitlines()
                     if re.match(r"\d+\s+(fsync|fdatasync|syncfs|sync_file_range|sync|msync)\(", line)]
            counts.append(len(calls))
            if len(calls) <= 3 and typical is None:
                typical = calls
            if len(calls) > 3 and folding is None:
                folding = calls
        print(f"   syncs per new over {len(counts)} runs: median {statistics.median(counts):g}, mean {statistics.mean(counts):.2f}, "
              f"max {max(counts)}  (target <= 3); runs with more: {sum(1 for c in counts if c > 3)}")
        for label, calls in (("a run", typical), ("a run with more (folding the WAL, or the first commit after)", folding)):
            if calls:
                print(f"     {label}:")
                for call in calls:
                    print(f"       {call}")

    # 2b. Start-up alone: the static binary's --version, beside what any program linking the same
    # shared libraries pays (a C program printing a line, linked to them: the floor before main).
    def median_start(argv):
        samples = []
        for _ in range(args.ed25519_runs):
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    version = median_start([dkimctl, "--version"])
    print(f"   dkimctl --version: median {version * 1000:.1f} ms (start-up of the static binary; target <= 6 ms)")
    floor = c_floor(dkimctl, work)
    if floor:
        libraries, program = floor
        print(f"   a C program linked to the same {len(libraries)} shared libraries: median {median_start([program]) * 1000:.1f} ms "
              f"(without them {median_start([program + '-bare']) * 1000:.1f} ms): {', '.join(libraries)}")

    # 3. list over a large registry: clone one real key row with SQL.
    registry = os.path.join(state, "registry.sqlite")
    existing = sqlite3.connect(registry).execute("SELECT count(*) FROM key").fetchone()[0]
    extra = max(0, args.keys - existing)
    connection = sqlite3.connect(registry)
    with connection:
        connection.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO key (slot_id, domain, selector, algorithm, bits, state, public_key, fingerprint,
                             private_key_path, ttl, created_at)
            SELECT k.slot_id, 'd' || (n.i % 500) || '.bench.example', 'sel-' || n.i, k.algorithm, k.bits,
                   k.state, k.public_key, k.fingerprint, k.private_key_path, k.ttl, k.created_at
            FROM n, (SELECT * FROM key WHERE algorithm = 'rsa' LIMIT 1) AS k
            """, (extra,))
    connection.close()
    total = sqlite3.connect(registry).execute("SELECT count(*) FROM key").fetchone()[0]

    listed, walls, peaks = measure_listing(dkimctl, env, os.path.join(work, "list.json"))
    if listed != total:
        sys.exit(f"list printed {listed} keys, the registry holds {total}")
    print(f"\n3. dkimctl list --format json over {total:,} keys (output checked: {listed:,} objects), 5 runs")
    print(f"   wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}), peak RSS {max(peaks) / 1024:.1f} MiB  (targets < 1 s, < 150 MiB)")

    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
