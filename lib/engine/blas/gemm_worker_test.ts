/**
 * The batched-product helper thread (`gemm_worker.ts`): split batches against
 * float64 references (every transpose, broadcast batches, odd batch counts,
 * outputs that grow the wasm heap, a fused bias), the switch and its
 * fallbacks, and that a program using it still exits. The whole blas kernel
 * suite runs again here with every batch of two or more products split.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { selectBackend } from "../backend.ts";
import { BATCH_WORKER_LIMITS } from "./gemm_worker.ts";
import { kernelSuite } from "./kernel_suite_test_support.ts";
import {
  batchWorkerReady,
  batchWorkerStats,
  installBlasKernels,
  loadOpenBlas,
  setBatchWorker,
  uninstallBlasKernels,
} from "./mod.ts";
import { planMatMul } from "./matmul_plan.ts";
import { maxAbsDiff, randomData, refMatMul } from "./reference_test_support.ts";
import type { WasmBackend } from "./heap.ts";

const TOL = 2e-4;

let missing = "";
try {
  loadOpenBlas();
} catch (e) {
  missing = (e as Error).message;
  console.warn(`batch worker tests ignored: ${missing}`);
}
const twoCpus = (navigator.hardwareConcurrency || 1) >= 2;
const ignore = !!missing || !twoCpus;

// Every batch of two or more small products goes to the helper in this file.
BATCH_WORKER_LIMITS.minWork = 0;

const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
const stored = (s: number[], t: boolean) => t ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s;
const heapBytes = () => (tf.backend() as unknown as WasmBackend).wasm.HEAPU8.buffer.byteLength;

/** Starts blas with the helper on and waits until it has loaded OpenBLAS. */
async function withHelper(): Promise<void> {
  await selectBackend("blas");
  setBatchWorker(true);
  assert.ok(await batchWorkerReady(), "the helper thread should start");
}

/** `matMul` of random operands of the given logical shapes against float64. */
function check(as: number[], bs: number[], ta: boolean, tb: boolean, seed: number): void {
  const A = stored(as, ta), B = stored(bs, tb);
  const a = randomData(size(A), seed), b = randomData(size(B), seed + 1);
  const ref = refMatMul(A, a, B, b, ta, tb);
  const y = tf.tidy(() => tf.matMul(tf.tensor(a, A), tf.tensor(b, B), ta, tb));
  assert.deepEqual(y.shape, ref.shape);
  const d = maxAbsDiff(y.dataSync(), ref.data);
  y.dispose();
  assert.ok(d < TOL, `[${A}]·[${B}] tA=${ta} tB=${tb}: max diff ${d}`);
}

Deno.test(
  { name: "batch worker: off by default, setBatchWorker(true) starts it", ignore },
  async () => {
    const info = await selectBackend("blas");
    const env = Deno.env.get("FUSELAB_BLAS_BATCH_WORKER");
    if (env === undefined) assert.match(info.details.batchWorker, /^off \(by default/);
    setBatchWorker(true);
    assert.ok(await batchWorkerReady(), "the helper thread should start");
    assert.ok(batchWorkerStats().enabled);
  },
);
kernelSuite("blas with the batch worker", ignore);

Deno.test({
  name: "batch worker: split batches match float64 (transposes, broadcasts, odd batches)",
  ignore,
  fn: async () => {
    await withHelper();
    const before = batchWorkerStats();
    const shapes: [number[], number[]][] = [
      [[1, 5, 7], [1, 7, 3]],
      [[3, 5, 7], [3, 7, 3]],
      [[257, 9, 4], [257, 4, 6]],
      [[257, 16, 16], [257, 16, 16]],
      // Broadcast batches: a shared A (aIndex all 0), a shared B with a
      // transposed A (no folding), and both broadcasting.
      [[1, 6, 5], [257, 5, 4]],
      [[3, 6, 5], [5, 4]],
      [[2, 1, 6, 5], [1, 3, 5, 4]],
      [[1, 4, 2, 3], [3, 1, 3, 2]],
      [[7, 3, 8, 5], [3, 5, 8]],
    ];
    let seed = 1, calls = 0, products = 0;
    for (const [as, bs] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          check(as, bs, ta, tb, seed += 2);
          // Split: every batch of two or more, except a shared B folded into one call.
          const p = planMatMul(stored(as, ta), stored(bs, tb), ta, tb);
          const folded = p.bBatch === 1 && !ta && p.aIndex === null;
          if (p.batch >= 2 && !folded) calls++, products += p.batch;
        }
      }
    }
    const after = batchWorkerStats();
    assert.equal(after.posted - before.posted, calls);
    const done = after.mainProducts - before.mainProducts + after.helperProducts -
      before.helperProducts;
    assert.equal(done, products, "each product is computed once");
  },
});

Deno.test({
  name: "batch worker: the helper thread computes products (counter)",
  ignore,
  fn: async () => {
    await withHelper();
    const a = tf.tensor(randomData(512 * 64 * 32, 3), [512, 64, 32]);
    const b = tf.tensor(randomData(512 * 32 * 64, 4), [512, 32, 64]);
    const ref = refMatMul([512, 64, 32], a.dataSync(), [512, 32, 64], b.dataSync(), false, false);
    const before = batchWorkerStats();
    // The helper may lose the race for a call on a busy machine; one of many wins.
    for (let i = 0; i < 200 && batchWorkerStats().helperProducts === before.helperProducts; i++) {
      const y = tf.matMul(a, b);
      assert.ok(maxAbsDiff(y.dataSync(), ref.data) < TOL);
      y.dispose();
    }
    const after = batchWorkerStats();
    assert.ok(after.helperProducts > before.helperProducts, "the helper computed no product");
    assert.ok(after.helperJobs > before.helperJobs);
    tf.dispose([a, b]);
  },
});

/**
 * Checks products `i` of `y` = op(A[i])·op(B[i]) (+ `bias` per column) for a
 * sample of `i` against float64: the full reference of a heap-sized output
 * takes seconds.
 */
function checkSampled(
  y: Float32Array,
  a: Float32Array,
  b: Float32Array,
  dims: { batch: number; M: number; N: number; K: number; ta: boolean; tb: boolean },
  bias?: Float32Array,
): void {
  const { batch, M, N, K, ta, tb } = dims;
  const picks = [0, 1, 2, batch >> 1, batch - 3, batch - 2, batch - 1];
  for (let q = 0; q < 40; q++) picks.push(Math.floor((q + 0.5) * batch / 40));
  for (const i of picks) {
    const oa = i * M * K, ob = i * K * N;
    let d = 0;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias ? bias[n] : 0;
        for (let k = 0; k < K; k++) {
          s += a[oa + (ta ? k * M + m : m * K + k)] * b[ob + (tb ? n * K + k : k * N + n)];
        }
        d = Math.max(d, Math.abs(s - y[i * M * N + m * N + n]));
      }
    }
    assert.ok(d < TOL, `product ${i} of ${batch}: max diff ${d}`);
  }
}

Deno.test({
  name: "batch worker: split outputs that grow the wasm heap, and a fused bias (beta = 1)",
  ignore,
  fn: async () => {
    await withHelper();
    const before = heapBytes();
    const M = 64, N = 64, K = 3;
    const batch = Math.ceil(before / (4 * M * N)) + 17;
    const a = randomData(batch * M * K, 5), b = randomData(batch * K * N, 6);
    const posted = batchWorkerStats().posted;
    const y = tf.tidy(() => tf.matMul(tf.tensor(a, [batch, M, K]), tf.tensor(b, [batch, K, N])));
    assert.ok(heapBytes() > before, "the heap should have grown");
    assert.equal(batchWorkerStats().posted, posted + 1);
    checkSampled(y.dataSync() as Float32Array, a, b, { batch, M, N, K, ta: false, tb: false });
    y.dispose();
    // The fused kernel preloads a row-vector bias into C and accumulates (beta = 1).
    const before2 = heapBytes();
    const batch2 = Math.ceil(before2 / (4 * M * N)) + 17;
    const a2 = randomData(batch2 * K * M, 7), b2 = randomData(batch2 * N * K, 8);
    const bias = randomData(N, 9);
    const z = tf.tidy(() =>
      tf.fused.matMul({
        a: tf.tensor(a2, [batch2, K, M]),
        b: tf.tensor(b2, [batch2, N, K]),
        transposeA: true,
        transposeB: true,
        bias: tf.tensor(bias, [N]),
      })
    );
    assert.ok(heapBytes() > before2, "the heap should have grown again");
    const dims = { batch: batch2, M, N, K, ta: true, tb: true };
    checkSampled(z.dataSync() as Float32Array, a2, b2, dims, bias);
    z.dispose();
  },
});

Deno.test({
  name:
    "batch worker: switched off, too large products and huge broadcasts stay on the main thread",
  ignore,
  fn: async () => {
    await withHelper();
    const posted = () => batchWorkerStats().posted;
    let n = posted();
    setBatchWorker(false);
    check([8, 16, 16], [8, 16, 16], false, false, 11);
    assert.equal(posted(), n);
    setBatchWorker(true);
    check([8, 16, 16], [8, 16, 16], false, false, 13);
    assert.equal(posted(), n + 1);
    // Above OpenBLAS's single-thread size (M·N·K > 65536·4) OpenBLAS threads each product.
    n = posted();
    check([2, 64, 65], [2, 65, 64], false, true, 15);
    assert.equal(posted(), n);
    // A broadcast batch with more products than the shared buffer has indices for.
    const big = BATCH_WORKER_LIMITS.capacity + 1;
    check([1, 2, 2], [big, 2, 2], false, false, 17);
    assert.equal(posted(), n);
    setBatchWorker(undefined);
  },
});

Deno.test({
  name: "batch worker: FUSELAB_BLAS_BATCH_WORKER switches it; one OpenBLAS thread starts none",
  ignore,
  fn: async () => {
    await selectBackend("blas");
    const prev = Deno.env.get("FUSELAB_BLAS_BATCH_WORKER");
    const reinstall = async (env: string | undefined, threads?: number) => {
      uninstallBlasKernels();
      if (env === undefined) Deno.env.delete("FUSELAB_BLAS_BATCH_WORKER");
      else Deno.env.set("FUSELAB_BLAS_BATCH_WORKER", env);
      return (await installBlasKernels({ threads })).details!.batchWorker;
    };
    try {
      setBatchWorker(undefined);
      uninstallBlasKernels();
      assert.equal(await batchWorkerReady(0), false, "uninstall stops the helper");
      assert.equal(await reinstall("0"), "off (FUSELAB_BLAS_BATCH_WORKER=0)");
      const n = batchWorkerStats().posted;
      check([8, 16, 16], [8, 16, 16], true, false, 19);
      assert.equal(batchWorkerStats().posted, n);
      assert.match(await reinstall(undefined), /^off \(by default; FUSELAB_BLAS_BATCH_WORKER=1/);
      assert.equal(await batchWorkerReady(0), false);
      assert.equal(await reinstall("1"), "on");
      assert.ok(await batchWorkerReady());
      check([8, 16, 16], [8, 16, 16], true, false, 21);
      assert.equal(batchWorkerStats().posted, n + 1);
      // One OpenBLAS thread: no helper, even when switched on.
      assert.equal(await reinstall("1", 1), "off (OpenBLAS has 1 thread)");
      setBatchWorker(true);
      assert.equal(await batchWorkerReady(0), false);
      setBatchWorker(undefined);
    } finally {
      if (prev === undefined) Deno.env.delete("FUSELAB_BLAS_BATCH_WORKER");
      else Deno.env.set("FUSELAB_BLAS_BATCH_WORKER", prev);
      // Back to the default install (all CPUs' threads), the helper on for what follows.
      uninstallBlasKernels();
      await installBlasKernels();
      setBatchWorker(true);
    }
  },
});

Deno.test({
  name: "batch worker: a program that used the helper exits by itself",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const script = `${dir}/short.ts`;
      const mod = (p: string) => new URL(p, import.meta.url).href;
      await Deno.writeTextFile(
        script,
        [
          `import * as tf from "@tensorflow/tfjs";`,
          `import { selectBackend } from "${mod("../backend.ts")}";`,
          `import { batchWorkerReady, batchWorkerStats } from "${mod("./mod.ts")}";`,
          `import { BATCH_WORKER_LIMITS } from "${mod("./gemm_worker.ts")}";`,
          `const info = await selectBackend("blas");`,
          `if (info.details.batchWorker !== "on") throw new Error(info.details.batchWorker);`,
          `BATCH_WORKER_LIMITS.minWork = 0;`,
          `if (!(await batchWorkerReady())) throw new Error("no helper");`,
          `tf.matMul(tf.ones([64, 8, 8]), tf.ones([64, 8, 8])).dataSync();`,
          `console.log("posted", batchWorkerStats().posted);`,
        ].join("\n"),
      );
      const config = new URL("../../../deno.json", import.meta.url).pathname;
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--config", config, "--allow-read", "--allow-env", "--allow-ffi", script],
        env: { FUSELAB_BLAS_BATCH_WORKER: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const out = await child.output();
      clearTimeout(timer);
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, `exit ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
      assert.match(text, /posted 1/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
