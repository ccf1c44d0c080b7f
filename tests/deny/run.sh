#!/usr/bin/env bash
# Dependency checks: licenses, bans (duplicates reported), sources, and advisories when the
# advisory database can be fetched. Installs cargo-deny (a few minutes of compiling) when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v cargo-deny >/dev/null 2>&1; then
    echo "cargo-deny missing: installing it (cargo install --locked cargo-deny)"
    cargo install --locked cargo-deny
fi
cargo deny --version
cargo deny check licenses bans sources
# The advisory database lives on GitHub; where it cannot be fetched, say so and go on.
if cargo deny check advisories 2>/tmp/flowai-deny-advisories.log; then
    echo "advisories: ok"
elif grep -qiE "failed to (fetch|clone|open)|unable to|network|resolve" /tmp/flowai-deny-advisories.log; then
    echo "advisories: skipped, the advisory database could not be fetched"
    tail -n 3 /tmp/flowai-deny-advisories.log
else
    cat /tmp/flowai-deny-advisories.log
    exit 1
fi
