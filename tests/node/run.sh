#!/usr/bin/env bash
# Node test suite: `npm install` in node/ (builds the addon from source), a staleness check
# of the committed generated files, then `node --test tests/node/` against the emulator.
# FLOWAI_NODE_PROFILE=release builds the addon as `npm install ./node` does for users;
# the default here is debug, which builds faster.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are required (Node 20.17 or later)" >&2
    exit 1
fi

export FLOWAI_NODE_PROFILE="${FLOWAI_NODE_PROFILE:-debug}"
(cd node && npm install --no-audit --no-fund --loglevel=error)

# The install regenerated native.js and native.d.ts: they must match what is committed.
if git ls-files --error-unmatch node/native.d.ts node/native.js >/dev/null 2>&1; then
    if ! git diff --exit-code -- node/native.d.ts node/native.js; then
        echo "node/native.d.ts or node/native.js is stale: commit the regenerated files" >&2
        exit 1
    fi
fi

# The hand-written index.d.ts (and the generated native.d.ts) must compile against real usage.
node/node_modules/.bin/tsc -p tests/node/types/tsconfig.json

. tests/support/emulator.sh
start_emulator --time-scale 0.001

status=0
node --test tests/node/ || status=$?
stop_emulator
exit $status
