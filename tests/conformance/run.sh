#!/usr/bin/env bash
# The conformance suite: runs the scenario of SCENARIO.md in Rust, C, Python and Node, each
# program against an emulator in its own process, normalizes every output (compare.py) and
# compares it with golden.jsonl. Prints a unified diff on any mismatch and one line per
# language at the end; exits non-zero when any language is missing, fails or differs.
# Then proves the comparer can fail (compare.py self-test) on a corrupted golden copy.
#
#   tests/conformance/run.sh                    every language, then the self-test
#   tests/conformance/run.sh --only rust        one language (repeatable), for development
#   tests/conformance/run.sh --self-test        the Rust program and the self-test only
#   FLOWAI_CONFORMANCE_BLESS=1 tests/conformance/run.sh --only rust
#                                               rewrite golden.jsonl from the Rust output
#
# The C, Python and Node programs need what tests/c, tests/python and tests/node build
# (run_all.sh runs those first); when it is missing, this script builds it the same way.
set -uo pipefail
root="$(git rev-parse --show-toplevel)"
cd "$root"
here="tests/conformance"
golden="$here/golden.jsonl"
out="$root/target/conformance"
mkdir -p "$out"

# The scenario passes every setting explicitly; an exported FLOWAI_* (a suite's emulator)
# must not change what a program sees.
unset FLOWAI_API_URL FLOWAI_MESSAGING_KEY FLOWAI_MANAGEMENT_KEY FLOWAI_CLIENT_ID \
    FLOWAI_AIDA_URL FLOWAI_AIDA_BOT FLOWAI_AIDA_TOKEN FLOWAI_CA_CERT FLOWAI_VERIFY_KEY

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
}

langs=()
self_test_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --only)
            [ $# -ge 2 ] || { usage >&2; exit 2; }
            langs+=("$2")
            shift 2
            ;;
        --self-test) self_test_only=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [ "$self_test_only" = 1 ]; then
    langs=(rust)
elif [ ${#langs[@]} -eq 0 ]; then
    langs=(rust c python node)
fi

# A program that hangs must not hang CI: every event wait is 10 s at most, so this is plenty.
RUN_TIMEOUT="${FLOWAI_CONFORMANCE_TIMEOUT:-300}"
PYVENV="target/pyvenv/py"

# Each language: program_<lang> names its program file, prepare_<lang> builds what it needs,
# exec_<lang> sets `cmd`, the command that prints the scenario's lines on stdout.
program_rust() { echo "crates/flowai-ffi/examples/conformance.rs"; }
prepare_rust() { cargo build -q -p flowai-ffi --example conformance; }
exec_rust() { cmd=(cargo run -q -p flowai-ffi --example conformance); }

program_c() { echo "$here/c/conformance.c"; }
prepare_c() {
    cargo build -q -p flowai-c || return 1
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude "$here/c/conformance.c" \
        -L"$root/target/debug" -lflowai -Wl,-rpath,"$root/target/debug" -pthread \
        -o "$out/c_conformance"
}
exec_c() { cmd=("$out/c_conformance"); }

program_python() { echo "$here/python/conformance.py"; }
prepare_python() {
    if [ -x "$PYVENV/bin/python" ] && "$PYVENV/bin/python" -c "import flowai" 2>/dev/null; then
        return 0
    fi
    # As tests/python/run.sh installs it.
    echo "installing the flowai Python package into $PYVENV ..."
    if [ ! -x "$PYVENV/bin/python" ]; then
        "${PYTHON:-python3}" -m venv "$PYVENV" || return 1
        "$PYVENV/bin/python" -m pip install -q --upgrade pip || return 1
    fi
    MATURIN_PEP517_ARGS="--profile ${FLOWAI_PY_PROFILE:-dev}" \
        "$PYVENV/bin/python" -m pip install -q --force-reinstall --no-deps ./python
}
exec_python() { cmd=("$PYVENV/bin/python" "$here/python/conformance.py"); }

program_node() { echo "$here/node/conformance.mjs"; }
prepare_node() {
    command -v node >/dev/null || { echo "node is not installed" >&2; return 1; }
    if compgen -G "node/*.node" >/dev/null && [ -d node/node_modules ]; then
        return 0
    fi
    # As tests/node/run.sh builds it.
    echo "building the Node addon (npm install in node/) ..."
    (cd node && FLOWAI_NODE_PROFILE="${FLOWAI_NODE_PROFILE:-debug}" \
        npm install --no-audit --no-fund --loglevel=error)
}
exec_node() { cmd=(node "$here/node/conformance.mjs"); }

summary=()
failed=0
fail() {
    summary+=("$1: FAILED ($2)")
    failed=1
}

for lang in "${langs[@]}"; do
    if ! declare -F "exec_$lang" >/dev/null; then
        fail "$lang" "no such language; one of: rust c python node"
        continue
    fi
    echo "=== conformance: $lang ==="
    program="$("program_$lang")"
    if [ ! -f "$program" ]; then
        echo "$program is missing"
        fail "$lang" "$program is missing"
        continue
    fi
    if ! "prepare_$lang"; then
        fail "$lang" "could not build what $program needs"
        continue
    fi
    output="$out/$lang.jsonl"
    "exec_$lang"
    timeout -k 10 "$RUN_TIMEOUT" "${cmd[@]}" >"$output" 2>"$out/$lang.stderr"
    status=$?
    if [ "$status" -ne 0 ]; then
        echo "$program exited with status $status; its stderr (last 30 lines):"
        tail -n 30 "$out/$lang.stderr"
    fi
    if [ "$lang" = rust ] && [ "${FLOWAI_CONFORMANCE_BLESS:-}" = 1 ]; then
        if [ "$status" -eq 0 ]; then
            python3 "$here/compare.py" bless "$output" "$golden"
        else
            echo "not blessing: the Rust program reported a failed step"
        fi
    fi
    if [ ! -f "$golden" ]; then
        fail "$lang" "$golden is missing: FLOWAI_CONFORMANCE_BLESS=1 $0 --only rust"
        continue
    fi
    line="$(python3 "$here/compare.py" check "$lang" "$output" "$golden")"
    compared=$?
    echo "$line"
    if [ "$compared" -ne 0 ]; then
        fail "$lang" "output differs from $golden, diff above"
    elif [ "$status" -ne 0 ]; then
        fail "$lang" "exited with status $status"
    else
        summary+=("$(tail -n 1 <<<"$line")")
    fi
done

# The comparer must be able to fail: corrupt a golden copy and check it is reported.
if [ "$self_test_only" = 1 ] || [[ " ${langs[*]} " == *" rust "* ]]; then
    echo "=== conformance: self-test of the comparer ==="
    if [ -f "$golden" ] && [ -s "$out/rust.jsonl" ] \
        && python3 "$here/compare.py" self-test "$out/rust.jsonl" "$golden"; then
        summary+=("self-test: ok")
    else
        fail "self-test" "the comparer did not report corrupted input as it must"
    fi
fi

echo
echo "=== conformance summary ==="
printf '%s\n' "${summary[@]}"
exit $failed
