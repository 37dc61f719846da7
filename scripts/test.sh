#!/usr/bin/env bash
# Installs what the tests need (including BIND for the DNS tests), builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-dependencies.sh --tests
swift build --build-tests
swift test --skip-build "$@"
