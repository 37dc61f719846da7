#!/usr/bin/env python3
"""Benchmark for the scheduler tick (issue 4). Prints its figures; asserts nothing.

1. A `dkimctl rotate` tick over N configured slots (default 10,000: 10 domains of
   1,000 slots, Ed25519 keys, zonefile publisher, served by a local BIND) with
   nothing due: every key active, no rotation, TTL raise or revocation due.
   Target: under 2 s; peak memory reported. Setting up (first key for every
   slot, DNS proof, activation) is timed too, for information.
2. 200 slots all due at once (RSA-2048, manual publisher): the same `rotate`
   pinned to one core (taskset -c 0) and free on every core, each from a fresh
   state. Target: the free run generates keys at least 1.8x as fast as the
   pinned one.

Usage: bench/rotate.py [--slots 10000] [--due 200] [--no-build]
Needs: python3, BIND (named), util-linux (taskset), a Swift toolchain.
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time

from benchlib import DKIMCTL, build_release, free_port, fresh_state, run_measured

START = "2026-11-23T03:00:00Z"



def at(hours):
    start = datetime.datetime(2026, 11, 23, 3, 0, tzinfo=datetime.timezone.utc)
    return (start + datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_named(work, domains):
    port = free_port()
    conf = os.path.join(work, "named.conf")
    zones = ""
    for domain in domains:
        zone = os.path.join(work, f"{domain}.zone")
        fragment = os.path.join(work, f"{domain}.dkim.zone")
        open(fragment, "w").close()
        with open(zone, "w") as out:
            out.write(f"$ORIGIN {domain}.\n$TTL 3600\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
                      f"@ IN NS ns1\nns1 IN A 127.0.0.1\n$INCLUDE {fragment}\n")
        zones += f'zone "{domain}" {{ type primary; file "{zone}"; }};\n'
    with open(conf, "w") as out:
        out.write(f"""options {{ directory "{work}"; pid-file "{work}/named.pid"; session-keyfile "{work}/session.key";
  listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }}; recursion no; dnssec-validation no; notify no; }};
controls {{ }};
{zones}""")
    named = subprocess.Popen(["named", "-g", "-n", "1", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(os.path.join(work, "named.pid")):
            time.sleep(0.5)
            return named, port
        time.sleep(0.1)
    sys.exit("named did not start")


def config_text(domains, slots_per_domain, port, work, algorithm, publisher):
    lines = ["defaults:", "  owner: bench@example.org", f"  algorithm: {algorithm}", "  propagation: 0s",
             "dns:", f'  nameservers: ["127.0.0.1:{port}"]', "  timeout: 2", "  retries: 1", "domains:"]
    for domain in domains:
        lines.append(f"  {domain}:")
        if publisher == "zonefile":
            fragment = os.path.join(work, f"{domain}.dkim.zone")
            reload = f"sleep 1 && touch {fragment} && kill -HUP $(cat {work}/named.pid) && sleep 1"
            lines.append(f'    publisher: {{ type: zonefile, path: {fragment}, reload: "{reload}" }}')
        if slots_per_domain == 0:
            continue  # slots defined elsewhere (the registry: bench/fleet.py)
        lines.append("    slots:")
        for i in range(slots_per_domain):
            lines.append(f"      - {{ provider: self-hosted, usage: u{i:04d} }}")
    return "\n".join(lines) + "\n"


def rotate(env, config, now, prefix=()):
    return run_measured(list(prefix) + [DKIMCTL, "rotate", "--config", config, "--now", now, "--format", "json"], env=env)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slots", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=200)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build_release()
    print(f"dkimctl rotate benchmark ({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})")

    # 1. A tick over N slots with nothing due.
    work, state, env = fresh_state("dkimctl-bench-rotate.")
    domains = [f"d{i}.bench.example" for i in range(max(1, args.slots // 1000))]
    per_domain = args.slots // len(domains)
    named, port = start_named(work, domains)
    try:
        config = os.path.join(work, "dkimctl.yaml")
        with open(config, "w") as out:
            out.write(config_text(domains, per_domain, port, work, "ed25519", "zonefile"))
        for label, hours in (("first keys created, published, proved", 0), ("all activated", 1)):
            elapsed, peak, status, stderr = rotate(env, config, at(hours))
            print(f"setup: {label}: {elapsed:.1f} s (exit {status}, peak RSS {peak / 1024:.1f} MiB)")
            if status != 0:
                sys.exit(f"setup tick failed: {stderr[-2000:]}")
        times, peaks = [], []
        for run in range(5):
            elapsed, peak, status, stderr = rotate(env, config, at(2 + run))
            if status != 0:
                sys.exit(f"idle tick exited {status}: {stderr[-2000:]}")
            times.append(elapsed)
            peaks.append(peak)
        states = subprocess.run([DKIMCTL, "list", "--format", "csv"], env=env, capture_output=True, text=True).stdout
        active = states.count(",active,")
        print(f"\nrotate tick, {len(domains) * per_domain:,} slots ({active:,} active keys), nothing due: "
              f"median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}), "
              f"peak RSS {max(peaks) / 1024:.1f} MiB  [target < 2 s]")
    finally:
        named.terminate()
        named.wait()

    # 2. N slots due at once: key generation spread over the cores.
    results = {}
    for label, prefix in (("one core (taskset -c 0)", ("taskset", "-c", "0")), ("all cores", ())):
        work, state, env = fresh_state("dkimctl-bench-due.")
        named, port = start_named(work, ["due.bench.example"])
        try:
            config = os.path.join(work, "dkimctl.yaml")
            with open(config, "w") as out:
                out.write(config_text(["due.bench.example"], args.due, port, work, "rsa", "manual"))
            elapsed, peak, status, stderr = rotate(env, config, START, prefix)
            if status != 0:
                sys.exit(f"due tick exited {status}: {stderr[-2000:]}")
            results[label] = elapsed
            print(f"rotate with {args.due} RSA-2048 slots due, {label}: {elapsed:.1f} s, "
                  f"{args.due / elapsed:.1f} keys/s, peak RSS {peak / 1024:.1f} MiB")
        finally:
            named.terminate()
            named.wait()
    single, parallel = results["one core (taskset -c 0)"], results["all cores"]
    print(f"speed-up over one core: {single / parallel:.2f}x  [target >= 1.8x]")


if __name__ == "__main__":
    main()
