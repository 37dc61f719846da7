#!/usr/bin/env bash
# The main job on the embedded default: build dkimctl, create a local state
# directory with an SQLite registry, generate keys for two sending routes,
# and print the register.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-dependencies.sh
# --static-swift-stdlib: the Swift runtime and Foundation are linked in, so the binary
# needs only Debian's libcrypto, libsqlite3, libidn2 and libldns (and the C and C++
# runtimes every Debian has) where it is copied.
swift build -c release --product dkimctl --static-swift-stdlib
dkimctl=".build/release/dkimctl"
state="${DKIMCTL_HOME:-$PWD/demo-state}"
export DKIMCTL_HOME="$state"

"$dkimctl" init --owner "${DKIMCTL_OWNER:-mail-team@example.org}"
echo
echo "== A Mailgun key for notifications@ (the record to publish):"
"$dkimctl" new --domain example.org --provider mailgun --usage notifications
echo
echo "== A self-hosted key for support@, owned by the help desk, as one line for a DNS web form:"
"$dkimctl" new --domain example.org --provider self-hosted --usage support \
    --owner helpdesk@example.org --format value
echo
echo "== Amazon SES cannot take an Ed25519 key (refused, nothing written):"
"$dkimctl" new --domain example.org --provider amazon-ses --algorithm ed25519 || true
echo
selector="mailgun-notifications-$(date -u +%Y%m%d)"
echo "== The same Mailgun key as an Amazon Route 53 change batch (one of the record templates):"
"$dkimctl" record "$selector" --domain example.org --format route53
echo
echo "== Handing it to Mailgun (the private key is read from its file when the script runs):"
"$dkimctl" handoff "$selector" --domain example.org
echo
echo "== The register ($state/registry.sqlite):"
"$dkimctl" list
echo
echo "== The compliance audit (register and findings; without DNS, as example.org is not yours):"
"$dkimctl" audit --no-dns || [[ $? -eq 3 ]]   # 3: findings of severity error, shown above
echo
echo "== The evidence: the event chain, and the register replayed from it:"
"$dkimctl" audit verify
echo
echo "== The rotation plan for the example configuration ($state/dkimctl.yaml), without changing anything:"
[[ -f "$state/dkimctl.yaml" ]] || "$dkimctl" config init
"$dkimctl" rotate --dry-run
