#!/usr/bin/env bash
# The packages as users install them. Builds dist/ once (bindings/dist.sh), then installs
# each artifact into a clean place with cargo and rustc off PATH and runs it against the
# emulator that ships inside the package:
#   - versions: the workspace's version in node/package.json, pyproject (dynamic) and every
#     artifact's name, metadata and runtime version;
#   - Python: a fresh venv, `pip install dist/*.whl`, README's quick start against
#     `python -m flowai emulator`, a user's pytest file using the `flowai_emulator` fixture;
#     the wheel's manylinux tag and size (<= 10 MB);
#   - Node: a fresh folder, `npm install dist/flowai-VERSION.tgz`, README's quick start
#     against `npx flowai emulator`, the testing helper, the loader's error without an addon;
#   - C: the tarball unpacked into a prefix; a C and a C++ program built with pkg-config and
#     with CMake (shared and static), each starting the emulator with flowai_emulator_start;
#   - JVM: tests/jvm/FlowaiSmoke.java through JNA against libflowai.so (the Android path).
# A missing tool skips its part with a message; under CI=1 it fails instead.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
root=$PWD
work="$root/target/packaging-test"
rm -rf "$work" && mkdir -p "$work"
# Emulators of this suite still running when it ends (after a failed check) are stopped by
# the pids it recorded (npx's with its process group).
cleanup() {
    local f pid
    for f in "$work"/*.pid; do
        [ -f "$f" ] || continue
        pid="$(cat "$f")"
        kill -0 "$pid" 2>/dev/null || continue
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
failed=0
bad() {
    echo "FAILED: $*" >&2
    failed=1
}
section() { echo "--- $* (at $SECONDS s)"; }
# Whether every tool named is there; a part without its tools is skipped, except in CI.
have() {
    local tool missing=()
    for tool in "$@"; do
        case "$tool" in
            /*) [ -e "$tool" ] || missing+=("$tool") ;;
            *) command -v "$tool" >/dev/null || missing+=("$tool") ;;
        esac
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "${CI:-}" = 1 ]; then
        bad "missing in CI: ${missing[*]}"
    else
        echo "SKIPPED (missing: ${missing[*]})" >&2
    fi
    return 1
}

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"

section "one version everywhere: $version"
node_version="$(node -p 'require("./node/package.json").version')"
[ "$node_version" = "$version" ] || bad "node/package.json has version $node_version, the workspace $version"
grep -q '^dynamic = \["version"\]' python/pyproject.toml || bad "python/pyproject.toml must take its version from Cargo (dynamic)"
! grep -q '^version *=' python/pyproject.toml || bad "python/pyproject.toml sets its own version"
for manifest in bindings/*/Cargo.toml crates/*/Cargo.toml; do
    grep -q '^version.workspace = true' "$manifest" || bad "$manifest does not take the workspace version"
done

section "bindings/dist.sh"
dist_start=$SECONDS
bindings/dist.sh
dist_secs=$((SECONDS - dist_start))
echo "dist built in $dist_secs s"
wheel="$(ls dist/flowai-"$version"-*.whl)"
npm_tgz="dist/flowai-$version.tgz"
c_tgz="$(ls dist/libflowai-"$version"-*.tar.gz)"
for f in "$wheel" "$npm_tgz" "$c_tgz" "dist/flowai-$version.tar.gz"; do
    [ -f "$f" ] || bad "no $f"
done

# PATH without the directories that hold cargo or rustc.
clean_path=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
    [ -x "$dir/cargo" ] || [ -x "$dir/rustc" ] || [ -x "$dir/rustup" ] && continue
    clean_path="${clean_path:+$clean_path:}$dir"
done
# A command run with that PATH (a script, so that timeout and background jobs can run it).
clean="$work/clean"
printf '#!/bin/sh\nexec env PATH="%s" CARGO_HOME=/nonexistent RUSTUP_HOME=/nonexistent "$@"\n' "$clean_path" >"$clean"
chmod +x "$clean"
if "$clean" bash -c 'command -v cargo || command -v rustc'; then
    bad "cargo or rustc is still on the clean PATH"
fi

# Runs an emulator command in the background until its FLOWAI_AIDA_TOKEN line; the
# FLOWAI_* lines go to $1.env for `env $(cat ...)`; $1.pid holds its pid.
start_packaged_emulator() {
    local name="$1" i=0
    shift
    "$@" >"$name.out" 2>&1 &
    echo $! >"$name.pid"
    until grep -q '^FLOWAI_AIDA_TOKEN=' "$name.out"; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 "$(cat "$name.pid")" 2>/dev/null; then
            cat "$name.out" >&2
            return 1
        fi
        sleep 0.1
    done
    grep -q '^listening on http://127.0.0.1:' "$name.out" || return 1
    grep '^FLOWAI_' "$name.out" >"$name.env"
}
# SIGTERM stops it cleanly: exit status 0 within 10 s.
stop_packaged_emulator() {
    local pid i=0
    pid="$(cat "$1.pid")"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        i=$((i + 1))
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        bad "$1: still running 10 s after SIGTERM"
    fi
    wait "$pid" || bad "$1: exit status $? after SIGTERM"
}
# Output of a command that must show the bot's reply.
expect_reply() {
    local what="$1" out
    shift
    if out="$(timeout 120 "$@" 2>&1)" && grep -q "customer service demo bot" <<<"$out"; then
        echo "ok: $what ($(grep -c . <<<"$out") lines of output)"
    else
        echo "$out" >&2
        bad "$what shows no bot reply"
    fi
    LAST_OUT="$out"
}

# README's quick starts, as tests/readme/run.sh extracts them.
python3 - "$work" <<'PY'
import pathlib, re, sys
work = pathlib.Path(sys.argv[1])
text = pathlib.Path("README.md").read_text(encoding="utf-8")
for lang, body in re.findall(r"<!-- readme-test: (\w+) -->\s*```\w*\n(.*?)```", text, re.S):
    if lang in ("python", "node"):
        (work / f"quickstart.{ {'python': 'py', 'node': 'js'}[lang] }").write_text(body, encoding="utf-8")
PY

section "Python: fresh venv, pip install $(basename "$wheel")"
if have python3; then
    python3 -m zipfile -l "$wheel" >"$work/wheel-files.txt"
    tag="$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())' \
        "$wheel" "flowai-$version.dist-info/WHEEL" | sed -n 's/^Tag: //p')"
    echo "wheel tag: $tag"
    case "$tag" in
        cp311-abi3-manylinux*) ;;
        *) bad "wheel tag $tag is not cp311-abi3-manylinux_*" ;;
    esac
    wheel_bytes="$(stat -c %s "$wheel")"
    [ "$wheel_bytes" -le $((10 * 1024 * 1024)) ] || bad "the wheel is $wheel_bytes bytes, over 10 MB"
    grep -q 'flowai/pytest_plugin.py' "$work/wheel-files.txt" || bad "the wheel has no pytest plugin"
    grep -q 'pytest11' <(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())' \
        "$wheel" "flowai-$version.dist-info/entry_points.txt") || bad "the wheel registers no pytest11 entry point"
    venv="$work/venv"
    "$clean" python3 -m venv "$venv"
    "$clean" "$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel" "pytest>=8"
    got="$("$clean" "$venv/bin/python" -c 'import flowai; print(flowai.__version__)')"
    [ "$got" = "$version" ] || bad "flowai.__version__ is $got"
    if start_packaged_emulator "$work/py-emulator" "$clean" "$venv/bin/python" -m flowai emulator --time-scale 0.01; then
        # shellcheck disable=SC2046
        expect_reply "Python quick start" "$clean" env $(cat "$work/py-emulator.env") "$venv/bin/python" "$work/quickstart.py"
        stop_packaged_emulator "$work/py-emulator"
    else
        bad "python -m flowai emulator did not start"
    fi
    mkdir -p "$work/py-user-tests"
    cp tests/packaging/test_emulator_fixture.py "$work/py-user-tests/"
    (cd "$work/py-user-tests" && "$clean" "$venv/bin/python" -m pytest -q -p no:cacheprovider) ||
        bad "pytest with the flowai_emulator fixture"
fi

section "Node: fresh folder, npm install $(basename "$npm_tgz")"
if have node npm; then
    app="$work/node-app"
    mkdir -p "$app"
    echo '{ "name": "bot-app", "version": "1.0.0", "private": true }' >"$app/package.json"
    (cd "$app" && "$clean" npm install --no-audit --no-fund --loglevel=error "$root/$npm_tgz") || bad "npm install"
    got="$(cd "$app" && "$clean" node -p 'require("flowai/package.json").version')"
    [ "$got" = "$version" ] || bad "the npm package's version is $got"
    [ -z "$(cd "$app" && "$clean" node -p 'require("flowai/package.json").scripts?.install ?? ""')" ] ||
        bad "the npm package has an install script"
    cp "$work/quickstart.js" "$app/"
    # The package's `flowai` command (what npx runs) in the foreground; SIGTERM ends it.
    if start_packaged_emulator "$work/node-emulator" "$clean" "$app/node_modules/.bin/flowai" emulator --time-scale 0.01; then
        # shellcheck disable=SC2046
        expect_reply "Node quick start" "$clean" bash -c "cd '$app' && exec env $(tr '\n' ' ' <"$work/node-emulator.env") node quickstart.js"
        stop_packaged_emulator "$work/node-emulator"
    else
        bad "flowai emulator (npm package) did not start"
    fi
    # Through npx, as a user types it. npm does not pass a SIGTERM of its own on to the
    # command, while Ctrl-C signals the whole process group: stop it as Ctrl-C does.
    if start_packaged_emulator "$work/npx-emulator" "$clean" setsid bash -c "cd '$app' && exec npx --no-install flowai emulator"; then
        url="$(sed -n 's/^FLOWAI_API_URL=//p' "$work/npx-emulator.env")"
        kill -TERM -- "-$(cat "$work/npx-emulator.pid")"
        wait "$(cat "$work/npx-emulator.pid")" || true
        if "$clean" node -e '
          const wait = (ms) => new Promise((r) => setTimeout(r, ms))
          async function main() {
            for (let i = 0; i < 100; i++) {
              try { await fetch(process.argv[1]) } catch { process.exit(0) }
              await wait(100)
            }
            console.error("still answering 10 s after SIGTERM"); process.exit(1)
          }
          main()' "$url"; then
            echo "ok: npx flowai emulator served $url and stopped on SIGTERM to its process group"
        else
            kill -KILL -- "-$(cat "$work/npx-emulator.pid")" 2>/dev/null || true
            bad "npx flowai emulator did not stop"
        fi
    else
        bad "npx flowai emulator did not start"
    fi
    cat >"$app/testing.js" <<'JS'
const { startEmulator } = require('flowai/testing')
const { Session } = require('flowai')
const { once } = require('node:events')
async function main() {
  const emulator = await startEmulator({ timeScale: 0.01 })
  const session = await Session.connect({ ...emulator.settings, threadId: 'ci-user' })
  const replied = once(session, 'reply')
  await session.sendText('hi')
  const [{ reply }] = await replied
  console.log('bot:', reply.messages[0].fallback, Object.keys(emulator.env).join(' '))
  await session.close()
  await emulator.stop()
}
main()
JS
    expect_reply "Node startEmulator" "$clean" bash -c "cd '$app' && exec node testing.js"
    grep -q FLOWAI_CLIENT_ID <<<"$LAST_OUT" || bad "startEmulator gives no FLOWAI_CLIENT_ID in env"
    # Without an addon for this platform the error names the platform, arch and libc.
    for addon in "$app"/node_modules/flowai/*.node; do mv "$addon" "$addon.away"; done
    out="$(cd "$app" && "$clean" node -e 'require("flowai")' 2>&1)" && bad "flowai loaded without its addon"
    grep -q "no prebuilt native addon fits this platform (linux-$(node -p process.arch)-gnu" <<<"$out" ||
        bad "the loader's error does not name the platform: $out"
    echo "loader without an addon: $(grep -m1 'no prebuilt' <<<"$out")"
fi

prefix="$work/c-prefix"
mkdir -p "$prefix"
tar -xzf "$c_tgz" -C "$prefix" --strip-components=1
for f in include/flowai.h include/flowai_methods.h lib/libflowai.so lib/libflowai.a lib/pkgconfig/flowai.pc \
    lib/cmake/flowai/flowai-config.cmake lib/cmake/flowai/flowai-config-version.cmake; do
    [ -f "$prefix/$f" ] || bad "the C tarball has no $f"
done
check_c_program() {
    local what="$1" program="$2"
    expect_reply "$what" "$clean" "$program"
    grep -q "^version $version$" <<<"$LAST_OUT" || bad "$what: flowai_version() is not $version"
}

section "C and C++ with pkg-config"
if have gcc g++ pkg-config; then
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
    [ "$(pkg-config --modversion flowai)" = "$version" ] || bad "flowai.pc version"
    read -r -a pc_cflags <<<"$(pkg-config --cflags flowai)"
    read -r -a pc_libs <<<"$(pkg-config --libs flowai)"
    libdir="$(pkg-config --variable=libdir flowai)"
    "$clean" gcc -std=c11 -Wall -Wextra -Werror "${pc_cflags[@]}" tests/packaging/emulator_app.c "${pc_libs[@]}" \
        -Wl,-rpath,"$libdir" -o "$work/pc_app_c" && check_c_program "C program (pkg-config, shared)" "$work/pc_app_c" ||
        bad "C program with pkg-config"
    "$clean" g++ -std=c++17 -Wall -Wextra -Werror "${pc_cflags[@]}" tests/packaging/emulator_app.cpp "${pc_libs[@]}" \
        -Wl,-rpath,"$libdir" -o "$work/pc_app_cpp" && check_c_program "C++ program (pkg-config, shared)" "$work/pc_app_cpp" ||
        bad "C++ program with pkg-config"
    unset PKG_CONFIG_PATH
fi

section "C and C++ with CMake find_package(flowai)"
if have cmake gcc g++; then
    "$clean" cmake -S tests/packaging/cmake -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 &&
        "$clean" cmake --build "$work/cmake-build" >>"$work/cmake.log" 2>&1 || {
        cat "$work/cmake.log" >&2
        bad "CMake build"
    }
    if [ -x "$work/cmake-build/emulator_app_c" ]; then
        check_c_program "C program (CMake, shared)" "$work/cmake-build/emulator_app_c"
        ldd "$work/cmake-build/emulator_app_c" | grep -q "$prefix/lib/libflowai.so" ||
            bad "the CMake C program does not load the tarball's libflowai.so"
    fi
    if [ -x "$work/cmake-build/emulator_app_cpp" ]; then
        check_c_program "C++ program (CMake, static)" "$work/cmake-build/emulator_app_cpp"
        ! ldd "$work/cmake-build/emulator_app_cpp" | grep -q libflowai || bad "the static C++ program loads libflowai.so"
    fi
fi

section "JVM: JNA to libflowai.so"
jna=/usr/share/java/jna.jar
if have javac java "$jna"; then
    mkdir -p "$work/jvm"
    "$clean" javac -Xlint:all -Werror -cp "$jna" -d "$work/jvm" tests/jvm/FlowaiSmoke.java || bad "javac FlowaiSmoke"
    expect_reply "JVM smoke test" "$clean" java -Djna.encoding=UTF-8 -Djna.library.path="$prefix/lib" \
        -cp "$work/jvm:$jna" FlowaiSmoke
    grep -q "^version $version$" <<<"$LAST_OUT" || bad "JVM: flowai_version() is not $version"
fi

section "sizes"
cat dist/SIZES.txt
echo "packaging suite: $SECONDS s, of which bindings/dist.sh $dist_secs s"
[ $failed = 0 ] && echo "packaging: all checks passed"
exit $failed
