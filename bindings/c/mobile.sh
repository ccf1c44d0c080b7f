#!/usr/bin/env bash
# Builds libflowai for mobile apps from the C ABI (static library + include/flowai.h), as far
# as the installed toolchains allow, into dist/mobile/:
#   iOS      flowai.xcframework: libflowai.a for devices (aarch64-apple-ios) and simulators
#            (aarch64-apple-ios-sim + x86_64-apple-ios, one fat archive), with the headers and
#            a module map (`import Flowai` in Swift). Needs macOS with xcodebuild.
#   Android  jniLibs/<abi>/libflowai.so for arm64-v8a, armeabi-v7a, x86_64 and x86, to drop
#            into app/src/main/jniLibs (call it through JNA or your own JNI glue), plus
#            include/. Needs the Android NDK (ANDROID_NDK_HOME or ANDROID_NDK_ROOT).
# Each needs its Rust targets (`rustup target add ...`, listed when missing).
#   bindings/c/mobile.sh [ios|android|all]     (default: all)   --check: only say what is missing
# Exits 0 when every requested platform was built, 1 when one could not be, saying why.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
check_only=0
want=all
for arg in "$@"; do
    case "$arg" in
        --check) check_only=1 ;;
        ios | android | all) want="$arg" ;;
        *)
            echo "usage: $0 [ios|android|all] [--check]" >&2
            exit 2
            ;;
    esac
done
profile="${PROFILE:-dist}"
out="$root/dist/mobile"
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
installed_targets="$(rustup target list --installed 2>/dev/null || true)"
status=0

# "$@" joined with "; ".
joined() {
    local IFS=';'
    sed 's/;/; /g' <<<"$*"
}

# The Rust targets in "$@" that are not installed, one line.
missing_targets() {
    local t missing=()
    for t in "$@"; do
        grep -qx "$t" <<<"$installed_targets" || missing+=("$t")
    done
    echo "${missing[*]:-}"
}

build_ios() {
    local targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios) missing
    missing="$(missing_targets "${targets[@]}")"
    local why=()
    [ "$(uname -s)" = Darwin ] && command -v xcodebuild >/dev/null || why+=("xcodebuild (macOS with Xcode)")
    [ -z "$missing" ] || why+=("rust targets: $missing (rustup target add $missing)")
    if [ ${#why[@]} -gt 0 ]; then
        echo "ios: not built; missing $(joined "${why[@]}")"
        return 1
    fi
    [ $check_only = 1 ] && { echo "ios: ready"; return 0; }
    for t in "${targets[@]}"; do
        cargo build --quiet --profile "$profile" -p flowai-c --target "$t"
    done
    local headers="$target_dir/mobile-headers"
    rm -rf "$headers" && mkdir -p "$headers"
    cp include/flowai.h include/flowai_methods.h "$headers/"
    printf 'module Flowai {\n    header "flowai.h"\n    export *\n}\n' >"$headers/module.modulemap"
    local sim="$target_dir/ios-sim-universal"
    mkdir -p "$sim"
    lipo -create "$target_dir/aarch64-apple-ios-sim/$profile/libflowai.a" \
        "$target_dir/x86_64-apple-ios/$profile/libflowai.a" -output "$sim/libflowai.a"
    rm -rf "$out/flowai.xcframework"
    mkdir -p "$out"
    xcodebuild -create-xcframework \
        -library "$target_dir/aarch64-apple-ios/$profile/libflowai.a" -headers "$headers" \
        -library "$sim/libflowai.a" -headers "$headers" \
        -output "$out/flowai.xcframework"
    echo "ios: built $out/flowai.xcframework"
}

build_android() {
    local ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}" api="${ANDROID_API:-24}"
    local abis=(arm64-v8a armeabi-v7a x86_64 x86)
    local targets=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android)
    local clangs=(aarch64-linux-android armv7a-linux-androideabi x86_64-linux-android i686-linux-android)
    local missing why=() bin=""
    missing="$(missing_targets "${targets[@]}")"
    if [ -n "$ndk" ]; then
        bin="$(ls -d "$ndk"/toolchains/llvm/prebuilt/*/bin 2>/dev/null | head -n 1)"
    fi
    [ -n "$bin" ] || why+=("the Android NDK (set ANDROID_NDK_HOME)")
    [ -z "$missing" ] || why+=("rust targets: $missing (rustup target add $missing)")
    if [ ${#why[@]} -gt 0 ]; then
        echo "android: not built; missing $(joined "${why[@]}")"
        return 1
    fi
    [ $check_only = 1 ] && { echo "android: ready"; return 0; }
    local i t cc upper
    for i in "${!targets[@]}"; do
        t="${targets[$i]}"
        cc="$bin/${clangs[$i]}$api-clang"
        upper="$(tr 'a-z-' 'A-Z_' <<<"$t")"
        # The NDK's clang links, and builds the C parts of the dependencies (aws-lc).
        env "CARGO_TARGET_${upper}_LINKER=$cc" "CC_${t//-/_}=$cc" "AR_${t//-/_}=$bin/llvm-ar" \
            cargo build --quiet --profile "$profile" -p flowai-c --target "$t"
        mkdir -p "$out/jniLibs/${abis[$i]}"
        cp "$target_dir/$t/$profile/libflowai.so" "$out/jniLibs/${abis[$i]}/"
    done
    mkdir -p "$out/include"
    cp include/flowai.h include/flowai_methods.h "$out/include/"
    echo "android: built $out/jniLibs (${abis[*]}) and $out/include"
}

case "$want" in
    ios) build_ios || status=1 ;;
    android) build_android || status=1 ;;
    all)
        build_ios || status=1
        build_android || status=1
        ;;
esac
exit $status
