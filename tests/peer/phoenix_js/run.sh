#!/usr/bin/env bash
# Run the phoenix.js peer against a fresh `flowai emulator` on a free loopback port.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
root="$(git rev-parse --show-toplevel)"
. "$root/tests/support/emulator.sh"
if [ ! -d node_modules/phoenix ] || [ ! -d node_modules/ws ]; then
    npm install --no-audit --no-fund
fi
start_emulator
status=0
node --test || status=$?
stop_emulator
exit $status
