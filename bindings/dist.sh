#!/usr/bin/env bash
# Builds every package of this platform into dist/, no Rust needed to install any of them:
#   flowai-VERSION-cp311-abi3-manylinux_*.whl   the Python wheel (abi3: CPython 3.11+)
#   flowai-VERSION.tar.gz                       the Python sdist (builds from source: needs Rust)
#   flowai-VERSION.tgz                          the npm package, prebuilt addon inside
#   libflowai-VERSION-PLATFORM.tar.gz           include/, lib/libflowai.{so,a}, pkg-config, CMake
# and prints their sizes. Every artifact comes from the one Cargo profile `dist` in one
# target directory, so the crates they share compile once.
#   bindings/dist.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
profile=dist
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
stage="$target_dir/dist-stage"
rm -rf dist "$stage"
mkdir -p dist "$stage"
step() { echo "--- $* ($SECONDS s)"; }

# The npm package's version must be the workspace's: stamp it where it differs.
node -e '
const fs = require("node:fs"), file = process.argv[1], version = process.argv[2]
const pkg = JSON.parse(fs.readFileSync(file, "utf8"))
if (pkg.version !== version) {
  pkg.version = version
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n")
  console.log(`node/package.json: version set to ${version}`)
}' node/package.json "$version"

# C: the shared and static library, headers, pkg-config and CMake files.
step "C library"
cargo build --quiet --profile "$profile" -p flowai-c --no-default-features
platform="linux-$(uname -m)"
[ "$(uname -s)" = Darwin ] && platform="macos-$(uname -m)"
c_name="libflowai-$version-$platform"
FLOWAI_LIB_DIR="$target_dir/$profile" RELOCATABLE=1 bindings/c/install.sh "$stage/$c_name" >/dev/null
# The shared library is stripped by the profile; the archive keeps what linking needs only.
strip --strip-debug "$stage/$c_name/lib/libflowai.a"
tar -C "$stage" -czf "dist/$c_name.tar.gz" "$c_name"

# Python: one abi3 wheel for this platform and an sdist for the rest.
step "Python wheel"
maturin="${MATURIN:-}"
if [ -z "$maturin" ]; then
    venv="$target_dir/pyvenv/dist"
    if [ ! -x "$venv/bin/maturin" ]; then
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install -q "maturin>=1.16,<2"
    fi
    maturin="$venv/bin/maturin"
fi
(cd python && "$maturin" build --profile "$profile" --compatibility pypi --out "$root/dist")
# Its log is shown only on failure: maturin's sdist warns about every crate's metadata.
(cd python && "$maturin" sdist --out "$root/dist" >"$stage/sdist.log" 2>&1) || {
    cat "$stage/sdist.log" >&2
    exit 1
}

# Node: the package with the addon of this platform inside and no install script.
step "Node package"
node_stage="$stage/node"
mkdir -p "$node_stage"
# What `napi build --platform` does, from the same target directory as the other packages
# (napi passes an explicit --target, which would build every shared crate a second time):
# the addon named for the platform, as node/native.js looks for it.
cargo build --quiet --profile "$profile" -p flowai-node
node_platform="$(node -p 'const g = process.report.getReport().header.glibcVersionRuntime;
  `${process.platform}-${process.arch}` + (process.platform === "linux" ? (g ? "-gnu" : "-musl") : "")')"
addon="$target_dir/$profile/libflowai_node.so"
[ -f "$addon" ] || addon="$target_dir/$profile/libflowai_node.dylib"
cp "$addon" "$node_stage/flowai.$node_platform.node"
node - "$root/node" "$node_stage" <<'JS'
// Copy the package's files and write its package.json for an install from a registry or
// a tarball: the addon is prebuilt, so nothing builds (no install script, no build tools).
const fs = require('node:fs')
const path = require('node:path')
const [src, dest] = process.argv.slice(2)
const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'))
for (const entry of pkg.files) {
  if (entry.includes('*') || entry.startsWith('scripts/')) continue
  fs.mkdirSync(path.dirname(path.join(dest, entry)), { recursive: true })
  fs.copyFileSync(path.join(src, entry), path.join(dest, entry))
}
delete pkg.scripts
delete pkg.dependencies
delete pkg.devDependencies
pkg.files = pkg.files.filter((f) => !f.startsWith('scripts/'))
fs.writeFileSync(path.join(dest, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
JS
cp README.md "$node_stage/README.md"
chmod +x "$node_stage/bin/flowai.js"
(cd "$node_stage" && npm pack --silent --pack-destination "$root/dist" >/dev/null)

step "sizes"
{
    printf '%-50s %10s\n' artifact bytes
    for f in dist/*; do
        printf '%-50s %10d\n' "$(basename "$f")" "$(stat -c %s "$f")"
    done
    for f in "$stage/$c_name/lib/libflowai.so" "$stage/$c_name/lib/libflowai.a" "$node_stage"/*.node; do
        printf '%-50s %10d\n' "$(basename "$f") (unpacked)" "$(stat -c %s "$f")"
    done
} | tee dist/SIZES.txt
echo "dist/ holds flowai $version for $platform ($SECONDS s)"
