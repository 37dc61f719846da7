#!/usr/bin/env python3
"""Benchmark for fleets (issue 13). Prints its figures; asserts nothing.

Registry-defined slots, on the embedded SQLite registry and on PostgreSQL beside it:
1. `slot import` of N registry-defined slots (default 100,000: 100 domains of 1,000
   slots, Ed25519) from JSON lines, in one transaction (SQLite).
2. Setting up: the first key of every slot created, published (zonefile publisher,
   one fragment per domain, served by a local BIND), proved and activated (SQLite),
   then `registry migrate --to postgres://…` of that registry, row for row.
3. A `rotate` tick over the N slots with nothing due, on each store. Target: under 5 s.
4. `list --format json` over the N keys, on each store. Target: under 2 s.

Slots due at once (default 2,000, RSA-2048, manual publisher), each from a fresh registry:
5. one `rotate` pinned to one core (taskset -c 0), and free on every core (SQLite);
   one `rotate` pinned to one core, and two hosts' `rotate` started at the same moment
   (two state directories, one PostgreSQL registry: one leads and generates on every
   core, the other waits for the lead and then finds nothing due). Keys/s, the speed-up
   over one core (target >= 1.8x) and a duplicate check (one key per slot, never two).

Usage: bench/fleet.py [--slots 100000] [--due 2000] [--no-build]
Needs: python3, BIND (named), PostgreSQL (postgresql), util-linux (taskset), a Swift
toolchain. Setting up 100,000 keys takes minutes.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from benchlib import DKIMCTL, Postgres, build_release, fresh_state, measure_listing, run_measured
from rotate import START, at, config_text, rotate, start_named


def idle_ticks(env, config, runs=3):
    times, peaks = [], []
    for run in range(runs):
        elapsed, peak, status, stderr = rotate(env, config, at(2 + run))
        if status != 0:
            sys.exit(f"idle tick exited {status}: {stderr[-2000:]}")
        times.append(elapsed)
        peaks.append(peak)
    return times, peaks


def registry_defined_slots(args, postgres):
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
        print(f"\n1. slot import, {total:,} slots in one transaction (SQLite): {elapsed:.1f} s "
              f"({total / elapsed:,.0f} slots/s), peak RSS {peak / 1024:.1f} MiB")

        for label, hours in (("first keys created, published, proved", 0), ("all activated", 1)):
            elapsed, peak, status, stderr = rotate(env, config, at(hours))
            print(f"2. setup (SQLite): {label}: {elapsed:.1f} s (exit {status}, peak RSS {peak / 1024:.1f} MiB)")
            if status != 0:
                sys.exit(f"setup tick failed: {stderr[-2000:]}")
        postgres.psql("CREATE DATABASE fleet")
        url = postgres.url("fleet")
        elapsed, peak, status, stderr = run_measured([DKIMCTL, "registry", "migrate", "--to", url], env=env)
        if status != 0:
            sys.exit(f"registry migrate failed: {stderr[-2000:]}")
        print(f"2. registry migrate --to postgres://… ({total:,} slots and keys, every event): {elapsed:.1f} s, "
              f"peak RSS {peak / 1024:.1f} MiB")

        stores = (("SQLite", env), ("PostgreSQL", dict(env, DKIMCTL_REGISTRY=url)))
        print()
        for name, store_env in stores:
            times, peaks = idle_ticks(store_env, config)
            print(f"3. rotate tick, {total:,} registry-defined slots, nothing due, {name}: median {statistics.median(times):.2f} s "
                  f"(min {min(times):.2f}, max {max(times):.2f}), peak RSS {max(peaks) / 1024:.1f} MiB  [target < 5 s]")
        for name, store_env in stores:
            listed, walls, peaks = measure_listing(DKIMCTL, store_env, os.path.join(work, "list.json"), runs=3)
            print(f"4. list --format json, {listed:,} keys, {name}: median {statistics.median(walls):.2f} s "
                  f"(min {min(walls):.2f}), peak RSS {max(peaks) / 1024:.1f} MiB  [target < 2 s]")
    finally:
        named.terminate()
        named.wait()
        subprocess.run(["rm", "-rf", work])


def due_at_once(args, postgres, label, store, hosts, pinned):
    """`hosts` rotate runs started together over `args.due` due slots; returns seconds."""
    work, state, env = fresh_state("dkimctl-bench-due.")
    named, port = start_named(work, ["due.fleet.example"])
    try:
        config = os.path.join(work, "dkimctl.yaml")
        with open(config, "w") as out:
            out.write(config_text(["due.fleet.example"], args.due, port, work, "rsa", "manual"))
        envs = [env]
        if store == "PostgreSQL":
            database = f"due{int(time.time() * 1000) % 10**9}"
            postgres.psql(f"CREATE DATABASE {database}")
            envs = []
            for host in range(hosts):
                host_state = os.path.join(work, f"host{host}")
                host_env = dict(env, DKIMCTL_HOME=host_state, DKIMCTL_REGISTRY=postgres.url(database), DKIMCTL_ACTOR=f"bench@host{host}")
                subprocess.run([DKIMCTL, "init", "--owner", "bench@example.org"], env=host_env, check=True, stdout=subprocess.DEVNULL)
                envs.append(host_env)
        prefix = ["taskset", "-c", "0"] if pinned else []
        start = time.perf_counter()
        processes = [subprocess.Popen(prefix + [DKIMCTL, "rotate", "--config", config, "--now", START, "--lock-wait", "3600",
                                                "--format", "json"], env=host_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                     for host_env in envs]
        peaks = []
        for process in processes:
            _, status, usage = os.wait4(process.pid, 0)
            peaks.append(usage.ru_maxrss)
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"rotate exited {os.waitstatus_to_exitcode(status)}: {process.stderr.read().decode()[-2000:]}")
        elapsed = time.perf_counter() - start
        listing = subprocess.run([DKIMCTL, "list", "--format", "json"], env=envs[0], check=True, capture_output=True, text=True).stdout
        keys = json.loads(listing)
        slots = {(key["domain"], key["provider"], key["usage"]) for key in keys}
        duplicates = len(keys) - len(slots)
        print(f"5. {args.due:,} RSA-2048 slots due at once, {store}, {label}: {elapsed:.1f} s, {args.due / elapsed:.1f} keys/s, "
              f"{len(keys):,} keys for {len(slots):,} slots ({duplicates} duplicate{'s' if duplicates != 1 else ''}), "
              f"peak RSS {max(peaks) / 1024:.1f} MiB")
        return elapsed
    finally:
        named.terminate()
        named.wait()
        subprocess.run(["rm", "-rf", work])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slots", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=2_000)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build_release()
    print(f"dkimctl fleet benchmark, SQLite and PostgreSQL registries ({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})")
    postgres = Postgres()
    try:
        if args.slots > 0:
            registry_defined_slots(args, postgres)
        if args.due > 0:
            print()
            single = due_at_once(args, postgres, "one rotate on one core (taskset -c 0)", "SQLite", 1, True)
            every = due_at_once(args, postgres, "one rotate on every core", "SQLite", 1, False)
            print(f"   SQLite speed-up over one core: {single / every:.2f}x  [target >= 1.8x]")
            single = due_at_once(args, postgres, "one rotate on one core (taskset -c 0)", "PostgreSQL", 1, True)
            pair = due_at_once(args, postgres, "two hosts' rotate at once, every core", "PostgreSQL", 2, False)
            print(f"   PostgreSQL speed-up of two hosts over one core: {single / pair:.2f}x  [target >= 1.8x]")
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
