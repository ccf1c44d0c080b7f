#!/usr/bin/env bash
# Run each fuzz target for a short while (FUZZ_SECONDS, default 20) where a nightly toolchain
# and cargo-fuzz exist; skip cleanly where they do not.
set -euo pipefail
cd "$(dirname "$0")"
if ! rustup toolchain list 2>/dev/null | grep -q nightly; then
    echo "fuzz: skipped (no nightly toolchain)"; exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: skipped (cargo-fuzz not installed: cargo install cargo-fuzz)"; exit 0
fi
for target in flow_frame phoenix_frame webhook_body rest_error_body; do
    echo "fuzz: $target"
    cargo +nightly fuzz run --fuzz-dir . "$target" -- -max_total_time="${FUZZ_SECONDS:-20}" -max_len=65536 -rss_limit_mb=1024
done
