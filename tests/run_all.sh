#!/usr/bin/env bash
# Every test suite of every language: Rust (unit + integration against the emulator),
# the independent protocol peers, C, Python and Node, then the conformance scenario in all
# four languages. Installs what each suite needs.
# Exits non-zero when any suite fails; prints a summary line per suite at the end.
set -u
cd "$(git rev-parse --show-toplevel)"
# Incremental caches would double the disk a one-off run needs; keep them if asked for.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

suites=()
results=()

run_suite() {
    local name="$1"
    shift
    echo
    echo "=== $name: $* ==="
    local start=$SECONDS
    if "$@"; then
        results+=("ok      $name ($((SECONDS - start)) s)")
    else
        results+=("FAILED  $name ($((SECONDS - start)) s)")
        failed=1
    fi
    suites+=("$name")
}

failed=0
run_suite "import cycles" python3 tests/support/import_cycles.py
run_suite "binding lines" tests/support/binding_lines.sh
run_suite "rust" cargo test --workspace --quiet
run_suite "build" cargo build --quiet --workspace
run_suite "fidelity/run.sh" tests/fidelity/run.sh
# Not skipped when absent: redis-server is installed by .ci/run (and by the runner itself).
run_suite "scaling/run.sh" tests/scaling/run.sh
for runner in tests/peer/run.sh tests/peer/phoenix_js/run.sh tests/c/run.sh tests/python/run.sh tests/node/run.sh; do
    [ -x "$runner" ] && run_suite "${runner#tests/}" "$runner"
done
# After the C, Python and Node suites, which build what the conformance programs need.
# Not skipped when absent: parity across the languages is checked, not hoped for.
run_suite "conformance/run.sh" tests/conformance/run.sh
# The packages as users install them, no Rust on PATH; builds dist/ (profile `dist`) once.
run_suite "packaging/run.sh" tests/packaging/run.sh
for runner in tests/readme/run.sh tests/deny/run.sh; do
    [ -x "$runner" ] && run_suite "${runner#tests/}" "$runner"
done

echo
echo "=== summary ==="
printf '%s\n' "${results[@]}"
exit $failed
