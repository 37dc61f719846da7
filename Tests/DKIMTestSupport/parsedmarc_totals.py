"""Per-selector totals of DMARC aggregate reports, as parsedmarc reads them.

Usage: parsedmarc_totals.py FILE...   (XML, gzip, ZIP or a message; offline, no DNS)
Prints one JSON object: {"<d= domain>/<selector>": [messages, passing messages]}, with
domain and selector lower-cased (DNS names) and parsedmarc's "none" for a missing
selector written as the empty selector, as dkimctl names it. The reference the tests
compare `dkimctl reports summary` with; parsedmarc is installed by
scripts/install-dependencies.sh --tests into .build/test-tools/parsedmarc.
"""
import json
import sys

import parsedmarc

totals = {}
for path in sys.argv[1:]:
    parsed = parsedmarc.parse_report_file(path, offline=True, always_use_local_files=True)
    if parsed["report_type"] != "aggregate":
        sys.exit(f"{path}: parsedmarc read a {parsed['report_type']} report")
    for record in parsed["report"]["records"]:
        for signature in record["auth_results"]["dkim"]:
            selector = signature["selector"].lower()
            key = signature["domain"].lower() + "/" + ("" if selector == "none" else selector)
            messages, passing = totals.get(key, (0, 0))
            totals[key] = (messages + record["count"], passing + (record["count"] if signature["result"] == "pass" else 0))
print(json.dumps(totals, sort_keys=True))
