#!/usr/bin/env bash
# The fidelity suite: every example of the seed documents and every call and frame of the
# official JS client, sent to the emulator, with its answers checked field for field.
#
#   tests/fidelity/run.sh            fixture check, the suite, then the self-test
#   tests/fidelity/run.sh ID...      the suite only, for examples whose id contains ID
#
# 1. When a seeds folder is at hand (FLOWAI_SEEDS, default ../shared/seeds beside the
#    repository), the committed fixture must equal what extract.py extracts from it. CI
#    works on a clean clone without the seeds and skips this step, saying so.
# 2. The suite (crates/flowai-emulator/tests/fidelity.rs) prints one line per example, the
#    coverage (examples checked / examples in the seeds), every example left out and why,
#    and `fidelity: N passed, N failed`.
# 3. The self-test runs the suite on altered fixtures (self_test.py) and fails unless every
#    altered example fails: the checks can tell a wrong answer.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
here="tests/fidelity"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
status=0

if [ "$#" -eq 0 ]; then
    seeds="${FLOWAI_SEEDS:-$root/../shared/seeds}"
    if [ -d "$seeds" ]; then
        extracted="$(mktemp)"
        if python3 "$here/extract.py" "$seeds" "$extracted" \
            && diff -u "$here/examples.json" "$extracted" >"$extracted.diff"; then
            echo "fixture: tests/fidelity/examples.json equals what extract.py reads from $seeds"
        else
            cat "$extracted.diff" 2>/dev/null | head -n 80
            echo "fixture: tests/fidelity/examples.json is stale; refresh it with:" >&2
            echo "  python3 $here/extract.py $seeds $here/examples.json" >&2
            status=1
        fi
        rm -f "$extracted" "$extracted.diff"
    else
        echo "fixture: no seeds folder at $seeds (set FLOWAI_SEEDS); the committed fixture is used unchecked"
    fi
fi

cargo build -q -p flowai-emulator --tests || exit 1
cargo test -q -p flowai-emulator --test fidelity -- "$@" || status=1

if [ "$#" -eq 0 ]; then
    altered="$(mktemp -d)"
    out="$altered/out.txt"
    mapfile -t ids < <(python3 "$here/self_test.py" "$here" "$altered")
    FLOWAI_FIDELITY_DIR="$altered" cargo test -q -p flowai-emulator --test fidelity -- "${ids[@]}" >"$out" 2>&1
    missed=()
    for id in "${ids[@]}"; do
        grep -q "^fidelity $id .*\.\.\. FAILED" "$out" || missed+=("$id")
    done
    if [ "${#ids[@]}" -gt 0 ] && [ "${#missed[@]}" -eq 0 ]; then
        echo "self-test: ok (all ${#ids[@]} altered examples failed)"
    else
        echo "self-test: FAILED: these altered examples passed: ${missed[*]:-(no alterations made)}" >&2
        cat "$out" >&2
        status=1
    fi
    rm -rf "$altered"
fi
exit $status
