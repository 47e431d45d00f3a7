#!/bin/bash
# Packs what a GPU machine without network needs to run fuselab's GPU checks
# from a copy of this repository: the Deno binary, the node_modules files
# Deno opens, OpenBLAS (for the CPU comparison) and the Vulkan loader and glvnd.
#
#   tools/device/pack.sh          # writes .gpu-bundle/ (git-ignored, ~45 MB)
#
# Then carry `.gpu-bundle` and run `bash tools/device/run.sh` there (see
# docs/gpu.md). Needs here: deno, node_modules (deno install), strace, xz,
# apt-get (for the Vulkan loader .debs), libopenblas0-pthread.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUTDIR=.gpu-bundle
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR/lib" "$OUTDIR/deb"
for tool in deno strace xz; do
  command -v $tool >/dev/null || { echo "pack.sh: $tool is missing (apt-get install $tool)" >&2; exit 2; }
done

echo "deno binary"
xz -T0 -6 -c "$(readlink -f "$(command -v deno)")" > "$OUTDIR/deno.xz"

echo "node_modules: the files Deno opens for gpu-check and the WebGPU tests"
trace=$(mktemp)
export DENO_DIR=$(mktemp -d)
strace -f -e trace=openat -o "$trace" deno run --cached-only -A tools/gpu_check.ts \
  --quick --no-torch --batch 2 --seq 8 --steps 1 --warmup 0 >/dev/null 2>&1 || true
list=$(mktemp)
{
  grep -v ENOENT "$trace" | grep -o "\"$PWD/node_modules[^\"]*\"" | tr -d '"' | sort -u |
    while read -r f; do [ -f "$f" ] && realpath "$f"; done
  find node_modules -name package.json -exec realpath {} +
  find node_modules -type l
  find node_modules/.deno -maxdepth 1 -type f
  # Each package's marker: without it Deno treats the package as not installed.
  find node_modules/.deno -mindepth 2 -maxdepth 2 -name .initialized
  # Every small package whole (the tests import more than gpu-check does).
  find -L node_modules/.deno -maxdepth 1 -mindepth 1 -type d ! -name '@tensorflow+*' ! -name node_modules |
    while read -r d; do
      find "$d" -type f ! -name '*.map' ! -name '*.d.ts' ! -name '*.d.mts' ! -name '*.d.cts' ! -name '*.md'
    done
} | sed "s#^$PWD/##" | grep '^node_modules' | sort -u > "$list"
tar cf - -T "$list" | xz -T0 -6 > "$OUTDIR/nm.tar.xz"
rm -f "$trace" "$list"

echo "OpenBLAS and what it links"
# (awk reads to the end: an early exit would break the pipe, and pipefail would stop the script)
blas=$(ldconfig -p | awk '/libopenblas.so.0 / && !found {print $NF; found = 1}')
if [ -n "$blas" ]; then
  for so in "$blas" $(ldd "$blas" | awk '/gfortran|quadmath/{print $3}'); do
    xz -6 -c "$(readlink -f "$so")" > "$OUTDIR/lib/$(basename "$so").xz"
  done
else
  echo "  (no libopenblas.so.0 here: the CPU comparison there will use plain wasm)"
fi

echo "Vulkan loader .debs"
lists=$(mktemp -d)
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
mkdir -p "$lists/partial"
apt-get $o update >/dev/null 2>&1 || true
# The NVIDIA ICD's library (libGLX_nvidia) needs glvnd's dispatch libraries too.
(cd "$OUTDIR/deb" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 \
  >/dev/null 2>&1) ||
  echo "  (could not download the Vulkan loader and glvnd: bring them another way if the machine lacks them)"
du -sh "$OUTDIR"
