#!/usr/bin/env bash
# README's quick starts, copied out of README.md into files, run as-is against
# `flowai emulator` with the environment it prints. A block is marked in README.md by an
# HTML comment `<!-- readme-test: LANG -->` on the line before its code fence.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
root=$PWD
work="$root/target/readme-test"
rm -rf "$work" && mkdir -p "$work"

python3 - "$work" <<'PY'
import re, sys, pathlib
work = pathlib.Path(sys.argv[1])
text = open("README.md", encoding="utf-8").read()
names = {"c": "quickstart.c", "python": "quickstart.py", "node": "quickstart.js", "rust": "main.rs"}
found = re.findall(r"<!-- readme-test: (\w+) -->\s*```\w*\n(.*?)```", text, re.S)
for lang, body in found:
    (work / names[lang]).write_text(body, encoding="utf-8")
    print(f"extracted the {lang} quick start ({len(body.splitlines())} lines)")
missing = set(names) - {lang for lang, _ in found}
if missing:
    sys.exit(f"README.md has no marked quick start for: {', '.join(sorted(missing))}")
PY

. tests/support/emulator.sh
start_emulator
failed=0
check() {
    local name="$1" needle="$2"
    shift 2
    echo "--- $name"
    # A quick start that waits forever fails here instead of stalling the run.
    if out=$(timeout 120 "$@" 2>&1) && grep -q -- "$needle" <<<"$out"; then
        echo "$out" | tail -n 5
        echo "ok: $name shows a bot reply"
    else
        echo "$out"
        echo "FAILED: $name (expected output containing: $needle)"
        failed=1
    fi
}

# C: the header and library from this checkout.
cargo build -q --workspace   # features unified as in the other suites: no rebuild
gcc -std=c11 -Wall -Wextra -Werror -I include "$work/quickstart.c" -L target/debug -lflowai \
    -Wl,-rpath,"$root/target/debug" -o "$work/quickstart_c"
check "C quick start" "customer service demo bot" "$work/quickstart_c"

# Python: the package installed by the Python suite's virtualenv (built there if missing).
venv="$root/target/pyvenv/py"
if ! "$venv/bin/python" -c "import flowai" 2>/dev/null; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    MATURIN_PEP517_ARGS="--profile dev" "$venv/bin/python" -m pip install -q ./python
fi
check "Python quick start" "customer service demo bot" "$venv/bin/python" "$work/quickstart.py"

# Node: the package in node/ (built by the Node suite's npm install if missing).
[ -f node/index.js ] && [ -n "$(ls node/*.node 2>/dev/null)" ] || (cd node && npm install --no-audit --no-fund)
mkdir -p "$work/node_modules" && ln -sfn "$root/node" "$work/node_modules/flowai"
check "Node quick start" "customer service demo bot" node "$work/quickstart.js"

# Rust: a new crate depending on flowai-core by path, sharing this workspace's target dir.
mkdir -p "$work/rust/src" && cp "$work/main.rs" "$work/rust/src/main.rs"
cat >"$work/rust/Cargo.toml" <<TOML
[package]
name = "readme-quickstart"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
flowai-core = { path = "$root/crates/flowai-core" }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
TOML
check "Rust quick start" "customer service demo bot" \
    env CARGO_TARGET_DIR="$root/target" cargo run -q --manifest-path "$work/rust/Cargo.toml"

exit $failed
