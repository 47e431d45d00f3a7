#!/bin/bash
# On the GPU machine, from the repository root: unpacks .gpu-bundle (made by
# pack.sh) and finds the GPU's Vulkan driver. Source it:
#   source tools/device/setup.sh
# Afterwards `deno` is on PATH and $OUT (default /tmp/gpu-out) exists.
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
T0=$(date +%s)
log() { echo "== [$(($(date +%s) - T0))s] $*"; }
log "machine: $(nproc) CPUs"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in .gpu-bundle/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
unxz_to() { python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$1" "$2"; }
mkdir -p /tmp/fuselab-bin /tmp/fuselab-lib
unxz_to .gpu-bundle/deno.xz /tmp/fuselab-bin/deno && chmod +x /tmp/fuselab-bin/deno
for l in .gpu-bundle/lib/*.xz; do [ -e "$l" ] && unxz_to "$l" "/tmp/fuselab-lib/$(basename "$l" .xz)"; done
python3 -c "import tarfile; tarfile.open('.gpu-bundle/nm.tar.xz').extractall('.')"
export PATH=/tmp/fuselab-bin:$PATH DENO_DIR=/tmp/fuselab-deno-dir NO_COLOR=1
export LD_LIBRARY_PATH=/tmp/fuselab-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
[ -e /tmp/fuselab-lib/libopenblas.so.0 ] && export FUSELAB_OPENBLAS=/tmp/fuselab-lib/libopenblas.so.0
log "unpacked: $(deno --version | head -1)"
timeout 40 deno run --cached-only -A tools/device/probe.ts
rc=$?
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ $rc != 0 ] && [ -f $ICD ]; then
  log "no hardware adapter (probe exit $rc): naming the NVIDIA Vulkan ICD"
  export VK_DRIVER_FILES=$ICD
  timeout 40 deno run --cached-only -A tools/device/probe.ts || unset VK_DRIVER_FILES
fi
