#!/usr/bin/env bash
# The Python suite: builds and installs the `flowai` package into a venv (target/pyvenv),
# starts the emulator, runs pytest, mypy's stubtest of the package (the generated stubs of
# the native module and of `flowai._api` against the modules) and mypy --strict of this
# suite (the stubs type real code), stops the emulator. Exits non-zero on any failure.
#   FLOWAI_PY_PROFILE=release tests/python/run.sh   builds the wheel as a release (default: dev,
#   which reuses the workspace's debug build of the dependencies).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

VENV="target/pyvenv/py"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
fi
"$VENV/bin/python" -m pip install -q "pytest>=8" "mypy>=1.10"

profile="${FLOWAI_PY_PROFILE:-dev}"
echo "building the flowai package (maturin, profile $profile)..."
MATURIN_PEP517_ARGS="--profile $profile" "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps ./python

# shellcheck source=../support/emulator.sh
. tests/support/emulator.sh
start_emulator --time-scale 0.001

status=0
(cd tests/python && "../../$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@") || status=1

echo "stubtest flowai (flowai._flowai, flowai._api, flowai._object) ..."
if (cd tests/python && "../../$VENV/bin/python" -m mypy.stubtest flowai --mypy-config-file mypy.ini --allowlist stubtest-allowlist.txt); then
    echo "stubtest: ok"
else
    echo "stubtest: FAILED"
    status=1
fi

echo "mypy --strict tests/python ..."
if (cd tests/python && "../../$VENV/bin/python" -m mypy --strict .); then
    echo "mypy: ok"
else
    echo "mypy: FAILED"
    status=1
fi

stop_emulator
exit $status
