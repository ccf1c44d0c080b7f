#!/usr/bin/env bash
# Node test suite: `npm install` in node/ (builds the addon from source), staleness checks
# of the generated files, the TypeScript usage check, then `node --test tests/node/` against
# the emulator.
# FLOWAI_NODE_PROFILE=release builds the addon as `npm install ./node` does for users;
# the default here is debug, which builds faster.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are required (Node 20.17 or later)" >&2
    exit 1
fi

export FLOWAI_NODE_PROFILE="${FLOWAI_NODE_PROFILE:-debug}"
# The install rebuilds the addon and rewrites napi's native.js and native.d.ts: they must
# come out as they are in the work tree (committed), so keep a copy to compare with.
generated="$(mktemp -d)"
cp node/native.js node/native.d.ts "$generated/"
# `npm ci`: the dependencies of package-lock.json, which it never rewrites.
(cd node && npm ci --no-audit --no-fund --loglevel=error)
for file in native.js native.d.ts; do
    if ! diff -u "$generated/$file" "node/$file"; then
        echo "node/$file is stale: commit the regenerated file" >&2
        exit 1
    fi
done
rm -rf "$generated"

# classes.js and index.d.ts are generated from the method table by flowai-ffi.
cargo test -q -p flowai-ffi --test generated

# The generated index.d.ts must compile against real usage.
node/node_modules/.bin/tsc -p tests/node/types/tsconfig.json

. tests/support/emulator.sh
start_emulator --time-scale 0.001

status=0
node --test tests/node/ || status=$?
stop_emulator
exit $status
