#!/bin/bash
# The prepared GPU check, on the GPU machine from the repository root:
#   bash tools/device/run.sh            # about 2 minutes on an H200
# gpu-check in full (parity, kernel sweep, the bench model on webgpu, the
# fastest CPU backend and PyTorch CUDA), the GPU time of each dispatch of a
# step, 64 steps as the training loop runs them (wall, CPU, GPU busy), the
# matmul programs timed on the bench's products, then the WebGPU tests; logs
# and the JSON summary in $OUT.
set -u
source "$(dirname "$0")/setup.sh"
log "gpu-check"
timeout 150 deno run --cached-only -A tools/gpu_check.ts --cpu-steps 3 --json "$OUT/gpu_check.json" 2>&1 |
  tee "$OUT/gpu_check.log" | tail -9
log "GPU time of each dispatch of a step"
timeout 100 deno run --cached-only -A tools/device/profile.ts --gpu-time --top 30 2>&1 |
  tee "$OUT/gpu_time.log" | head -24
log "a steady stretch of steps: wall, CPU recording, GPU busy"
timeout 60 deno run --cached-only -A tools/device/profile.ts --timeline --steps 64 2>&1 |
  tee "$OUT/timeline.log" | tail -2
log "matmul programs for the bench's Linear products"
timeout 120 deno run --cached-only -A tools/device/matmul_types.ts >"$OUT/matmul_types.log" 2>&1
tail -1 "$OUT/matmul_types.log"
log "WebGPU tests"
timeout 120 deno test --no-check --cached-only -A lib/nn/layer_norm_test.ts lib/nn/*webgpu*_test.ts \
  lib/engine/webgpu*_test.ts \
  >"$OUT/tests.log" 2>&1
log "tests exit $?"
tail -2 "$OUT/tests.log"
log done
