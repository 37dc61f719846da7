#!/usr/bin/env bash
# Installs the Debian packages dkimctl needs, and only those that are missing.
#   scripts/install-dependencies.sh          build and run
#   scripts/install-dependencies.sh --tests  also what the tests use (BIND, its tools)
set -euo pipefail

packages=(pkg-config libssl-dev openssl libsqlite3-dev libidn2-dev libldns-dev zlib1g-dev publicsuffix)
if [[ "${1:-}" == "--tests" ]]; then
    # opendkim-tools: opendkim-testkey reads the exported KeyTable (template tests).
    # python3-prometheus-client: its parser reads the output of `dkimctl metrics`.
    # python3-dnspython: the hostile DNS server of the evidence tests.
    # strace: counts the syncs a command makes (at most three for a new key).
    # python3-venv: a private environment for parsedmarc (below).
    # postgresql: the registry tests run a real server (initdb'd by the tests as the postgres user, via setpriv).
    packages+=(bind9 bind9-utils bind9-dnsutils python3 python3-venv iproute2 systemd opendkim-tools python3-prometheus-client python3-dnspython strace postgresql util-linux)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} > 0)); then
    echo "Installing: ${missing[*]}"
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift is not on PATH; install Swift 6 (https://www.swift.org/install/linux/) and retry" >&2
    exit 1
fi

if [[ "${1:-}" == "--tests" ]]; then
    # parsedmarc (PyPI, pinned; test tool only, never a dependency of dkimctl): the
    # reference that report totals are compared with. In a private environment under
    # .build/, so nothing of the system's Python changes; created once.
    tools="$(cd "$(dirname "$0")/.." && pwd)/.build/test-tools/parsedmarc"
    if ! "$tools/bin/python3" -c "import parsedmarc" >/dev/null 2>&1; then
        echo "Installing parsedmarc 11.1.0 into $tools"
        rm -rf "$tools"
        /usr/bin/python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet --disable-pip-version-check parsedmarc==11.1.0
    fi
fi
