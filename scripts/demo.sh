#!/usr/bin/env bash
# The main job on the embedded default: build dkimctl, create a local state
# directory with an SQLite registry, generate keys for two sending routes,
# and print the register.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-dependencies.sh
swift build -c release --product dkimctl
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
echo "== The register ($state/registry.sqlite):"
"$dkimctl" list
echo
echo "== The rotation plan for the example configuration ($state/dkimctl.yaml), without changing anything:"
[[ -f "$state/dkimctl.yaml" ]] || "$dkimctl" config init
"$dkimctl" rotate --dry-run
