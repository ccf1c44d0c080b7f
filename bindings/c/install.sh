#!/usr/bin/env bash
# Build libflowai (release unless PROFILE=debug or another Cargo profile; or take it from FLOWAI_LIB_DIR) and install it
# with its header, a pkg-config file and a CMake package:  bindings/c/install.sh PREFIX
# RELOCATABLE=1 writes a flowai.pc that finds the prefix from its own place (${pcfiledir}), for a tarball.
# Then: PKG_CONFIG_PATH=PREFIX/lib/pkgconfig cc app.c $(pkg-config --cflags --libs flowai)
# (add -Wl,-rpath,PREFIX/lib or set LD_LIBRARY_PATH when PREFIX/lib is not a system path).
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$1"
prefix="$(cd "$1" && pwd)"
profile="${PROFILE:-release}"
cd "$root"
if [ -n "${FLOWAI_LIB_DIR:-}" ]; then
    # Already built (e.g. by tests/c/run.sh): install that build as it is.
    libdir="$FLOWAI_LIB_DIR"
else
    if [ "$profile" = debug ]; then
        cargo build --quiet -p flowai-c
    else
        cargo build --quiet --profile "$profile" -p flowai-c
    fi
    target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
    libdir="$target_dir/$profile"
fi
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
cp include/flowai.h include/flowai_methods.h "$prefix/include/"
for lib in libflowai.so libflowai.dylib libflowai.a; do
    if [ -f "$libdir/$lib" ]; then
        cp "$libdir/$lib" "$prefix/lib/"
    fi
done
pc_prefix="$prefix"
[ "${RELOCATABLE:-0}" = 1 ] && pc_prefix='${pcfiledir}/../..'
sed -e "s|@PREFIX@|$pc_prefix|" -e "s|@VERSION@|$version|" bindings/c/flowai.pc.in \
    >"$prefix/lib/pkgconfig/flowai.pc"
mkdir -p "$prefix/lib/cmake/flowai"
for file in flowai-config.cmake flowai-config-version.cmake; do
    sed -e "s|@VERSION@|$version|" "bindings/c/$file.in" >"$prefix/lib/cmake/flowai/$file"
done
echo "installed flowai $version into $prefix"
