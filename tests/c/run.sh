#!/usr/bin/env bash
# C API tests: header staleness, C11 and C++17 builds of the header, a pkg-config install,
# then the test program against the emulator three times: plain, under ASan+UBSan, and
# under valgrind. Prints "N passed, N failed" per run and exits non-zero on any failure.
set -uo pipefail
root="$(git rev-parse --show-toplevel)"
cd "$root"
out="$root/target/c-tests"
mkdir -p "$out"
failures=0
step() {
    echo "--- [$SECONDS s] $*"
}
fail() {
    echo "FAILED: $*" >&2
    failures=$((failures + 1))
}

step "build libflowai and the emulator"
# The whole workspace, so features unify as in `cargo test --workspace` and nothing rebuilds.
cargo build --quiet --workspace || exit 1
libdir="$root/target/debug"

step "header staleness"
# build.rs rewrote include/flowai.h from the exports, and `cargo test -p flowai-ffi --test
# generated` checks include/flowai_methods.h against the method table. What is committed must
# match: a failure in CI, a reminder in a work tree where the change is not committed yet.
for header in include/flowai.h include/flowai_methods.h; do
    if ! git ls-files --error-unmatch "$header" >/dev/null 2>&1 || ! git diff --quiet HEAD -- "$header"; then
        if [ -n "${CI:-}" ]; then
            fail "$header differs from the committed one: commit the regenerated header"
        else
            echo "note: $header differs from HEAD: commit it with the change"
        fi
    fi
done

cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude)
link=(-L"$libdir" -lflowai -Wl,-rpath,"$libdir" -pthread)

step "C++17 header test"
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude tests/c/header_test.cpp \
    -L"$libdir" -lflowai -Wl,-rpath,"$libdir" -pthread -o "$out/header_test" \
    && "$out/header_test" || fail "C++ header test"

step "pkg-config install"
prefix="$out/prefix"
if FLOWAI_LIB_DIR="$libdir" bindings/c/install.sh "$prefix" >/dev/null; then
    # shellcheck disable=SC2046
    if cc -std=c11 -Wall -Wextra -Werror tests/c/pkgconfig_app.c -o "$out/pkgconfig_app" \
        $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs flowai) \
        -Wl,-rpath,"$prefix/lib"; then
        "$out/pkgconfig_app" || fail "pkg-config app run"
    else
        fail "pkg-config app build"
    fi
else
    fail "bindings/c/install.sh"
fi

step "build the C tests"
gcc "${cflags[@]}" tests/c/test_flowai.c "${link[@]}" -o "$out/test_flowai" || exit 1
gcc "${cflags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
    tests/c/test_flowai.c "${link[@]}" -o "$out/test_flowai_asan" || exit 1

# shellcheck source=../support/emulator.sh
. tests/support/emulator.sh
start_emulator --time-scale 0.001 || exit 1

# The leak loop opens and closes 2,000 socket sessions, 200 messaging clients and 200 AIDA
# sessions (FLOWAI_C_STRESS_SESSIONS, FLOWAI_C_STRESS_AIDA); only the plain run checks that
# RSS stays flat after warm-up, as the sanitizers keep freed memory on purpose.
step "run"
FLOWAI_C_CHECK_RSS=1 "$out/test_flowai" || fail "C tests"

step "run under ASan + UBSan"
# libflowai itself is not instrumented; the suppressions cover one-time allocations of the
# Rust runtime that live until exit (see tests/c/lsan.supp).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    LSAN_OPTIONS="suppressions=$root/tests/c/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/test_flowai_asan" || fail "C tests under ASan+UBSan"

step "run under valgrind"
if command -v valgrind >/dev/null 2>&1; then
    # Fewer sessions: valgrind runs everything about 50 times slower.
    FLOWAI_C_STRESS_SESSIONS=200 FLOWAI_C_STRESS_AIDA=50 valgrind --quiet --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite --error-exitcode=1 \
        --suppressions="$root/tests/c/valgrind.supp" "$out/test_flowai" || fail "C tests under valgrind"
else
    fail "valgrind is not installed (apt-get install -y valgrind)"
fi

stop_emulator
step "done"
if [ "$failures" -ne 0 ]; then
    echo "C suite: $failures step(s) failed"
    exit 1
fi
echo "C suite: all steps passed"
