# Source this file: start_emulator starts `flowai emulator` on a free loopback port and
# exports the FLOWAI_* variables it prints; stop_emulator stops that process (by its pid).
# Usage:  . tests/support/emulator.sh; start_emulator [extra args]; ...; stop_emulator

FLOWAI_BIN="${FLOWAI_BIN:-$(git rev-parse --show-toplevel)/target/debug/flowai}"

start_emulator() {
    if [ ! -x "$FLOWAI_BIN" ]; then
        (cd "$(git rev-parse --show-toplevel)" && cargo build -q -p flowai-cli) || return 1
    fi
    EMULATOR_OUT="$(mktemp)"
    "$FLOWAI_BIN" emulator --port 0 "$@" >"$EMULATOR_OUT" 2>&1 &
    EMULATOR_PID=$!
    local i=0
    until [ "$(grep -c '^FLOWAI_AIDA_TOKEN=' "$EMULATOR_OUT")" = 1 ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
            echo "emulator did not start:" >&2
            cat "$EMULATOR_OUT" >&2
            return 1
        fi
        sleep 0.1
    done
    while IFS= read -r line; do
        case "$line" in
            FLOWAI_*=*) export "${line?}" ;;
        esac
    done <"$EMULATOR_OUT"
    trap stop_emulator EXIT
}

stop_emulator() {
    if [ -n "${EMULATOR_PID:-}" ]; then
        kill "$EMULATOR_PID" 2>/dev/null
        wait "$EMULATOR_PID" 2>/dev/null
        EMULATOR_PID=
    fi
    [ -n "${EMULATOR_OUT:-}" ] && rm -f "$EMULATOR_OUT"
    return 0
}
