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
# The Vulkan loader and glvnd (libGLX_nvidia, named by the NVIDIA ICD, needs libGLdispatch).
if ! ldconfig -p | grep -q 'libvulkan.so.1 ' || ! ldconfig -p | grep -q 'libGLdispatch.so.0 '; then
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
for ICD in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
  /etc/vulkan/icd.d/nvidia_icd.json; do
  [ $rc = 0 ] && break
  [ -f $ICD ] || continue
  log "no hardware adapter (probe exit $rc): naming the NVIDIA Vulkan ICD $ICD"
  export VK_DRIVER_FILES=$ICD
  timeout 40 deno run --cached-only -A tools/device/probe.ts
  rc=$?
  [ $rc = 0 ] || unset VK_DRIVER_FILES
done
if [ $rc != 0 ]; then
  log "still no adapter: what the Vulkan loader sees"
  for ICD in /usr/local/nvidia/share/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json; do
    [ -f "$ICD" ] && echo "$ICD: $(tr -d '\n ' <"$ICD")"
  done
  ldconfig -p | grep -E 'libvulkan|nvidia|GLdispatch|GLX' | head -20
  VK_LOADER_DEBUG=error,warn,driver timeout 40 deno run --cached-only -A tools/device/probe.ts 2>&1 | head -40
fi
