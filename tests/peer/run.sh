#!/usr/bin/env bash
# Run the independent Node peer against a fresh `flowai emulator` on a free loopback port.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${FLOWAI_BIN:-$root/target/debug/flowai}"
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build -q -p flowai-cli)
fi
if [ ! -d "$here/node_modules/ws" ]; then
    (cd "$here" && npm install --no-audit --no-fund --silent)
fi

out="$(mktemp)"
"$bin" emulator --port 0 >"$out" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$out"
}
trap cleanup EXIT

# The first line is `listening on URL`, then NAME=value lines.
for _ in $(seq 1 100); do
    grep -q '^FLOWAI_CLIENT_ID=' "$out" && break
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "emulator did not start:" >&2
        cat "$out" >&2
        exit 1
    fi
    sleep 0.1
done
head -n1 "$out" | grep -q '^listening on http://127.0.0.1:' || { echo "unexpected emulator output:" >&2; cat "$out" >&2; exit 1; }
while IFS= read -r line; do
    case "$line" in
        FLOWAI_*=*) export "${line?}" ;;
    esac
done <"$out"

cd "$here"
node --test flow_socket_peer.mjs
