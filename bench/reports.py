#!/usr/bin/env python3
"""Benchmark of `dkimctl reports import` (issue 12). Prints its figures; asserts nothing.

Generates N aggregate reports of M rows each (gzip, as Microsoft and Yahoo send
them; 10 selectors, 200 source IPs, two DKIM results per row), imports them in one
run and prints wall time, rows/s and peak RSS; then, when the `parsedmarc` package
is installed (scripts/install-dependencies.sh --tests puts it in .build/test-tools), parsedmarc's parse of the same files in the
same run, for the ratio. Targets: >= 20x parsedmarc's rows/s; < 200 MiB.

Usage: bench/reports.py [--reports 1000] [--rows 1000] [--parsedmarc-sample 20] [--no-build]
"""
import argparse
import gzip
import os
import shutil
import subprocess
import sys
import time

from benchlib import DKIMCTL, ROOT, build_release, fresh_state, run_measured


def report_xml(index, rows):
    begin = 1795132800 + (index % 30) * 86400
    records = []
    for row in range(rows):
        selector = f"s{row % 10}"
        records.append(
            f"<record><row><source_ip>192.0.{row % 200 // 250}.{row % 200 + 1}</source_ip><count>{row % 7 + 1}</count>"
            "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>"
            "<identifiers><header_from>example.org</header_from></identifiers><auth_results>"
            f"<dkim><domain>example.org</domain><selector>{selector}</selector><result>{'pass' if row % 13 else 'fail'}</result></dkim>"
            f"<dkim><domain>esp.example.net</domain><selector>esp</selector><result>pass</result></dkim>"
            "<spf><domain>example.org</domain><result>pass</result></spf></auth_results></record>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feedback><report_metadata><org_name>bench.example</org_name>'
        f"<email>dmarc@bench.example</email><report_id>bench-{index}</report_id><date_range><begin>{begin}</begin>"
        f"<end>{begin + 86399}</end></date_range></report_metadata><policy_published><domain>example.org</domain>"
        "<adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>"
        + "".join(records) + "</feedback>")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--parsedmarc-sample", type=int, default=20, help="reports parsedmarc parses (it is slow)")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build_release()
    work, state, env = fresh_state("dkimctl-reports-bench.")
    inbox = os.path.join(work, "inbox")
    os.makedirs(inbox)
    started = time.perf_counter()
    for index in range(args.reports):
        with gzip.open(os.path.join(inbox, f"report-{index:05d}.xml.gz"), "wb", compresslevel=6) as target:
            target.write(report_xml(index, args.rows).encode())
    total_rows = args.reports * args.rows
    size = sum(os.path.getsize(os.path.join(inbox, name)) for name in os.listdir(inbox))
    print(f"dkimctl reports import benchmark ({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})")
    print(f"   generated {args.reports} gzip reports, {total_rows:,} rows, {size / 1048576:.1f} MiB compressed, "
          f"in {time.perf_counter() - started:.1f} s")

    elapsed, peak, status, stderr = run_measured([DKIMCTL, "reports", "import", inbox], env=env)
    if status != 0:
        sys.exit(f"import failed with status {status}: {stderr[-500:]}")
    ours = total_rows / elapsed
    print(f"\n1. dkimctl reports import: {elapsed:.2f} s, {ours:,.0f} rows/s, peak RSS {peak / 1024:.1f} MiB  (target < 200 MiB)")
    again, _, _, _ = run_measured([DKIMCTL, "reports", "import", inbox], env=env)
    print(f"   again (every report already imported, counted once): {again:.2f} s")

    # parsedmarc: the test tools' environment (scripts/install-dependencies.sh --tests), else this python3's.
    python = os.path.join(ROOT, ".build", "test-tools", "parsedmarc", "bin", "python3")
    if not os.access(python, os.X_OK):
        python = sys.executable
    if subprocess.run([python, "-c", "import parsedmarc"], capture_output=True).returncode != 0:
        print("\n2. parsedmarc: not installed (scripts/install-dependencies.sh --tests) - no comparison")
        shutil.rmtree(work)
        return
    sample = sorted(os.listdir(inbox))[: args.parsedmarc_sample]
    script = (
        "import sys, parsedmarc\n"
        "for path in sys.argv[1:]:\n"
        "    with open(path, 'rb') as handle:\n"
        "        parsedmarc.parse_aggregate_report_file(handle.read(), offline=True, always_use_local_files=True)\n")
    elapsed_p, peak_p, status_p, stderr_p = run_measured(
        [python, "-c", script] + [os.path.join(inbox, name) for name in sample])
    if status_p != 0:
        print(f"\n2. parsedmarc failed: {stderr_p[-300:]}")
    else:
        theirs = len(sample) * args.rows / elapsed_p
        print(f"\n2. parsedmarc parse_aggregate_report_file (offline) on {len(sample)} of the same files: {elapsed_p:.2f} s, "
              f"{theirs:,.0f} rows/s, peak RSS {peak_p / 1024:.1f} MiB")
        print(f"   ratio dkimctl/parsedmarc rows/s: {ours / theirs:.1f}x  (target >= 20x; dkimctl also stores what it parses)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
