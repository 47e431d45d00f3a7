/**
 * The kernel test suite shared by the plain wasm backend's tests
 * (`./wasm_kernels_test.ts`) and the blas backend's (`blas_test.ts`): every
 * replaced kernel against float64 references.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { stridesOf, type WasmBackend } from "./heap.ts";
import {
  maxAbsDiff,
  randomData,
  refAddBroadcast,
  refMatMul,
  refMatMulGrads,
  refSum,
  refTile,
} from "./reference_test_support.ts";

const TOL = 2e-4;

/** [a, b] logical shapes (before any transpose). */
const MATMUL_SHAPES: [number[], number[]][] = [
  [[3, 4], [4, 5]],
  [[1, 1], [1, 1]],
  [[33, 17], [17, 65]],
  [[7, 3, 5], [7, 5, 2]],
  [[2, 3, 4], [4, 5]],
  [[3, 4], [2, 4, 5]],
  [[1, 3, 4], [2, 4, 5]],
  [[2, 1, 3, 4], [1, 3, 4, 5]],
  [[1, 4, 2, 3], [3, 1, 3, 2]],
  [[2, 2, 3, 4], [2, 4, 5]],
];

function stored(shape: number[], t: boolean): number[] {
  return t ? [...shape.slice(0, -2), shape.at(-1)!, shape.at(-2)!] : shape;
}

function backend(): WasmBackend {
  return tf.backend() as unknown as WasmBackend;
}

function heapBytes(): number {
  return backend().wasm.HEAPU8.buffer.byteLength;
}

/** MatMul, all transposes and batch broadcasts, against float64. */
function matMulCases(name: string): void {
  let seed = 1;
  for (const [as, bs] of MATMUL_SHAPES) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const A = stored(as, ta), B = stored(bs, tb);
        const a = randomData(A.reduce((p, q) => p * q, 1), seed++);
        const b = randomData(B.reduce((p, q) => p * q, 1), seed++);
        const ref = refMatMul(A, a, B, b, ta, tb);
        const y = tf.tidy(() => tf.matMul(tf.tensor(a, A), tf.tensor(b, B), ta, tb));
        assert.deepEqual(y.shape, ref.shape, `${A}·${B} ${ta} ${tb}`);
        const d = maxAbsDiff(y.dataSync(), ref.data);
        y.dispose();
        assert.ok(d < TOL, `${name} matMul [${A}]·[${B}] tA=${ta} tB=${tb}: max diff ${d}`);
      }
    }
  }
}

/** MatMul gradients, with broadcasting, against float64. */
function matMulGradCases(name: string): void {
  let seed = 100;
  for (const [as, bs] of MATMUL_SHAPES) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const A = stored(as, ta), B = stored(bs, tb);
        const a = randomData(A.reduce((p, q) => p * q, 1), seed++);
        const b = randomData(B.reduce((p, q) => p * q, 1), seed++);
        const outShape = refMatMul(A, a, B, b, ta, tb).shape;
        const g = randomData(outShape.reduce((p, q) => p * q, 1), seed++);
        const ref = refMatMulGrads(A, a, B, b, ta, tb, g);
        const [da, db] = tf.tidy(() => {
          const f = (x: tf.Tensor, y: tf.Tensor) =>
            tf.sum(tf.mul(tf.matMul(x, y, ta, tb), tf.tensor(g, outShape)));
          return tf.grads(f)([tf.tensor(a, A), tf.tensor(b, B)]);
        });
        const ea = maxAbsDiff(da.dataSync(), ref.da), eb = maxAbsDiff(db.dataSync(), ref.db);
        tf.dispose([da, db]);
        assert.ok(ea < TOL && eb < TOL, `${name} grad [${A}]·[${B}] ${ta} ${tb}: ${ea} ${eb}`);
      }
    }
  }
}

/** Fused matMul with bias and every activation, and its gradient. */
function fusedMatMulCases(name: string): void {
  const acts = ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"] as const;
  const act = (v: number, w: number, kind: string) => {
    switch (kind) {
      case "relu":
        return Math.max(v, 0);
      case "relu6":
        return Math.min(Math.max(v, 0), 6);
      case "elu":
        return v < 0 ? Math.exp(v) - 1 : v;
      case "sigmoid":
        return 1 / (1 + Math.exp(-v));
      case "leakyrelu":
        return v < 0 ? 0.3 * v : v;
      case "prelu":
        return v < 0 ? w * v : v;
      default:
        return v;
    }
  };
  const cases: { a: number[]; b: number[]; bias: number[] }[] = [
    { a: [5, 7], b: [7, 6], bias: [6] },
    { a: [3, 5, 7], b: [3, 7, 6], bias: [6] },
    { a: [3, 5, 7], b: [7, 6], bias: [1, 6] },
    { a: [2, 5, 7], b: [2, 7, 6], bias: [5, 6] },
    { a: [2, 5, 7], b: [2, 7, 6], bias: [2, 1, 6] },
    { a: [2, 5, 7], b: [2, 7, 6], bias: [1] },
  ];
  let seed = 500;
  for (const c of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        for (const kind of acts) {
          const A = stored(c.a, ta), B = stored(c.b, tb);
          const a = randomData(A.reduce((p, q) => p * q, 1), seed++);
          const b = randomData(B.reduce((p, q) => p * q, 1), seed++);
          const bias = randomData(c.bias.reduce((p, q) => p * q, 1), seed++);
          const mm = refMatMul(A, a, B, b, ta, tb);
          const pre = refAddBroadcast(mm.shape, mm.data, c.bias, bias);
          const N = mm.shape.at(-1)!;
          const w = randomData(N, seed++).map((x) => x * 0.5);
          const ref = pre.map((v, i) => act(v, w[i % N], kind));
          const y = tf.tidy(() =>
            tf.fused.matMul({
              a: tf.tensor(a, A),
              b: tf.tensor(b, B),
              transposeA: ta,
              transposeB: tb,
              bias: tf.tensor(bias, c.bias),
              activation: kind,
              preluActivationWeights: kind === "prelu" ? tf.tensor(w, [N]) : undefined,
              leakyreluAlpha: 0.3,
            })
          );
          const d = maxAbsDiff(y.dataSync(), ref);
          y.dispose();
          assert.ok(d < TOL, `${name} fused ${kind} [${A}]·[${B}]+[${c.bias}] ${ta} ${tb}: ${d}`);
        }
        // Gradient through the fused kernel (linear): d/dA, d/dB and d/dbias.
        // (TF.js's fused op cannot differentiate a broadcast batch: not tested.)
        if (c.a.length !== c.b.length) continue;
        const A = stored(c.a, ta), B = stored(c.b, tb);
        const a = randomData(A.reduce((p, q) => p * q, 1), seed++);
        const b = randomData(B.reduce((p, q) => p * q, 1), seed++);
        const bias = randomData(c.bias.reduce((p, q) => p * q, 1), seed++);
        const outShape = refMatMul(A, a, B, b, ta, tb).shape;
        const g = randomData(outShape.reduce((p, q) => p * q, 1), seed++);
        const ref = refMatMulGrads(A, a, B, b, ta, tb, g);
        const gBias = refSum(
          outShape,
          g,
          outShape.map((_, i) => i).filter((i) => {
            const j = c.bias.length - outShape.length + i;
            return j < 0 || c.bias[j] === 1;
          }),
        );
        const grads = tf.tidy(() =>
          tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
            tf.sum(tf.mul(
              tf.fused.matMul({ a: x, b: y, transposeA: ta, transposeB: tb, bias: z }),
              tf.tensor(g, outShape),
            ))
          )([tf.tensor(a, A), tf.tensor(b, B), tf.tensor(bias, c.bias)])
        );
        const [ea, eb, ez] = [
          maxAbsDiff(grads[0].dataSync(), ref.da),
          maxAbsDiff(grads[1].dataSync(), ref.db),
          maxAbsDiff(grads[2].dataSync(), gBias),
        ];
        tf.dispose(grads);
        assert.ok(
          ea < TOL && eb < TOL && ez < TOL,
          `${name} fused grad ${c.a}: ${ea} ${eb} ${ez}`,
        );
      }
    }
  }
}

/** MatMul with an empty inner dimension is zeros. */
function emptyInnerMatMul(): void {
  const y = tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3]));
  assert.deepEqual(y.shape, [2, 3]);
  assert.deepEqual(Array.from(y.dataSync()), [0, 0, 0, 0, 0, 0]);
  y.dispose();
}

/** Outputs that grow the wasm heap are computed right. */
function heapGrowthOutputs(): void {
  const before = heapBytes();
  // An output larger than the whole heap forces it to grow inside the kernel.
  const N = 1024, K = 2, M = Math.ceil(before / (4 * N)) + 16;
  const a = randomData(M * K, 7), b = randomData(K * N, 8);
  const ta = tf.tensor(a, [M, K]), tb = tf.tensor(b, [K, N]);
  const y = tf.matMul(ta, tb);
  assert.ok(heapBytes() > before, "the heap should have grown");
  const ref = refMatMul([M, K], a, [K, N], b, false, false);
  assert.ok(maxAbsDiff(y.dataSync(), ref.data) < TOL);
  // Again through the fused kernel, the bias path and a tile.
  const before2 = heapBytes();
  const M2 = Math.ceil(before2 / (4 * N)) + 16;
  const a2 = randomData(M2 * K, 9), bias = randomData(N, 10);
  const z = tf.fused.matMul({ a: tf.tensor(a2, [M2, K]), b: tb, bias: tf.tensor(bias, [N]) });
  assert.ok(heapBytes() > before2, "the heap should have grown again");
  const ref2 = refMatMul([M2, K], a2, [K, N], b, false, false);
  assert.ok(maxAbsDiff(z.dataSync(), refAddBroadcast([M2, N], ref2.data, [N], bias)) < TOL);
  const before3 = heapBytes();
  const reps = Math.ceil(before3 / (4 * N)) + 16;
  const t = tf.tile(tf.tensor(bias, [1, N]), [reps, 1]);
  assert.ok(heapBytes() > before3, "the heap should have grown a third time");
  const tv = t.dataSync();
  assert.equal(tv[(reps - 1) * N + 5], bias[5]);
  assert.equal(maxAbsDiff(tv.subarray(0, N), bias), 0);
  // A 2-D transpose whose output must grow the heap (the somatcopy path on blas).
  const rows = Math.ceil(heapBytes() / (4 * N)) + 16;
  const src = tf.tile(tf.tensor(bias, [1, N]), [rows, 1]);
  const before4 = heapBytes();
  const tr = tf.transpose(src);
  assert.ok(heapBytes() > before4, "the heap should have grown a fourth time");
  const trv = tr.dataSync();
  assert.equal(trv[5 * rows + rows - 1], bias[5]);
  assert.equal(trv[(N - 1) * rows], bias[N - 1]);
  tf.dispose([ta, tb, y, z, t, src, tr]);
}

/** Tile, any rank and dtype, and its gradient. */
function tileCases(): void {
  const cases: [number[], number[]][] = [
    [[5], [3]],
    [[2, 3], [2, 1]],
    [[2, 3], [1, 4]],
    [[2, 1, 3], [2, 5, 1]],
    [[1, 2, 2, 3], [2, 1, 3, 2]],
    [[3, 4], [1, 1]],
  ];
  for (const [shape, reps] of cases) {
    const n = shape.reduce((p, q) => p * q, 1);
    const x = randomData(n, n);
    const ref = refTile(shape, x, reps);
    const y = tf.tile(tf.tensor(x, shape), reps);
    assert.equal(maxAbsDiff(y.dataSync(), ref), 0, `tile [${shape}] × [${reps}]`);
    const xi = Array.from({ length: n }, (_, i) => i - 3);
    const yi = tf.tile(tf.tensor(xi, shape, "int32"), reps);
    assert.deepEqual(Array.from(yi.dataSync()), refTile(shape, xi, reps));
    const xb = xi.map((v) => (v % 2 ? 1 : 0));
    const yb = tf.tile(tf.tensor(xb, shape, "bool"), reps);
    assert.deepEqual(Array.from(yb.dataSync()), refTile(shape, xb, reps));
    tf.dispose([y, yi, yb]);
  }
  // d/dx sum(g ⊙ tile(x)) adds up the gradient of every copy.
  const g = tf.tensor(randomData(2 * 3 * 9, 3), [2, 3, 9]);
  const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.tile(x, [2, 1, 3]), g)))(
    tf.ones([1, 3, 3]),
  );
  const gv = g.dataSync(), want = new Float64Array(9);
  for (let r = 0; r < 2; r++) {
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3; k++) {
        for (let j = 0; j < 3; j++) want[i * 3 + j] += gv[r * 27 + i * 9 + k * 3 + j];
      }
    }
  }
  assert.ok(maxAbsDiff(dx.dataSync(), want) < TOL);
  tf.dispose([g, dx]);
}

/** Sum over any axes, keepDims, int32. */
function sumCases(): void {
  const shape = [3, 4, 5, 2];
  const x = randomData(120, 11);
  const axesList = [[0], [0, 1], [0, 1, 2], [3], [2, 3], [1, 2, 3], [0, 1, 2, 3], [1], [0, 2]];
  for (const axes of axesList) {
    for (const keepDims of [false, true]) {
      const y = tf.sum(tf.tensor(x, shape), axes, keepDims);
      const keptShape = keepDims
        ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : shape.filter((_, i) => !axes.includes(i));
      assert.deepEqual(y.shape, keptShape);
      const d = maxAbsDiff(y.dataSync(), refSum(shape, x, axes));
      assert.ok(d < TOL, `sum over [${axes}]: ${d}`);
      y.dispose();
    }
  }
  const negative = tf.sum(tf.tensor(x, shape), -1);
  assert.ok(maxAbsDiff(negative.dataSync(), refSum(shape, x, [3])) < TOL);
  const xi = Array.from({ length: 24 }, (_, i) => i);
  const yi = tf.sum(tf.tensor(xi, [4, 6], "int32"), 0);
  assert.equal(yi.dtype, "int32");
  assert.deepEqual(Array.from(yi.dataSync()), Array.from(refSum([4, 6], xi, [0])));
  tf.dispose([negative, yi]);
}

/** Identity shares data and frees it exactly once. */
function identitySharing(): void {
  const be = backend() as unknown as { numDataIds(): number };
  const base = be.numDataIds();
  const x = tf.tensor([1, 2, 3]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
  y.dispose();
  assert.equal(be.numDataIds(), base);
  // A training-like step through the tape leaks nothing.
  const w = tf.variable(tf.tensor(randomData(12, 4), [3, 4]));
  const step = () => {
    const { value, grads } = tf.variableGrads(() =>
      tf.tidy(() => tf.sum(tf.square(tf.matMul(tf.ones([2, 3]), w))))
    );
    tf.tidy(() => w.assign(tf.sub(w, tf.mul(grads[w.name], 0.01))));
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors, ids = be.numDataIds();
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(be.numDataIds(), ids);
  w.dispose();
}

/** Transpose, every permutation of rank ≤ 4, and Cast. */
function transposeAndCast(): void {
  const perms = (n: number): number[][] =>
    n === 1
      ? [[0]]
      : perms(n - 1).flatMap((p) =>
        Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])
      );
  for (const shape of [[7], [5, 3], [2, 3, 4], [2, 1, 3, 5], [3, 4, 1, 1], [2, 3, 4, 5]]) {
    const n = shape.reduce((p, q) => p * q, 1);
    const x = randomData(n, shape.length + n);
    for (const perm of perms(shape.length)) {
      const y = tf.transpose(tf.tensor(x, shape), perm);
      const outShape = perm.map((a) => shape[a]);
      assert.deepEqual(y.shape, outShape);
      const ys = stridesOf(shape), want = new Float32Array(n);
      for (let f = 0; f < n; f++) {
        let rest = f, src = 0;
        for (let ax = outShape.length - 1; ax >= 0; ax--) {
          src += (rest % outShape[ax]) * ys[perm[ax]];
          rest = Math.floor(rest / outShape[ax]);
        }
        want[f] = x[src];
      }
      assert.equal(maxAbsDiff(y.dataSync(), want), 0, `transpose [${shape}] by [${perm}]`);
      const yi = tf.transpose(
        tf.tensor(Array.from(x, (v) => Math.round(v * 100)), shape, "int32"),
        perm,
      );
      assert.deepEqual(Array.from(yi.dataSync()), Array.from(want, (v) => Math.round(v * 100)));
      tf.dispose([y, yi]);
    }
  }
  // A large 2-D transpose (the tiled / somatcopy path) and its gradient.
  const big = randomData(300 * 257, 5);
  const gt = tf.tensor(randomData(257 * 300, 6), [257, 300]);
  const t = tf.transpose(tf.tensor(big, [300, 257]));
  const tv = t.dataSync();
  assert.equal(tv[5 * 300 + 7], big[7 * 257 + 5]);
  assert.equal(tv[256 * 300 + 299], big[299 * 257 + 256]);
  const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.transpose(v), gt)))(tf.zeros([300, 257]));
  assert.equal(dx.dataSync()[7 * 257 + 5], gt.dataSync()[5 * 300 + 7]);
  // Cast: to the same dtype, and real conversions.
  const f = tf.tensor([1.5, -2.5, 0, 3]);
  const same = tf.cast(f, "float32");
  f.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.5, 0, 3]);
  const toInt = tf.cast(same, "int32"), toBool = tf.cast(same, "bool");
  assert.deepEqual(Array.from(toInt.dataSync()), [1, -2, 0, 3]);
  assert.deepEqual(Array.from(toBool.dataSync()), [1, 1, 0, 1]);
  assert.deepEqual(Array.from(tf.cast(toInt, "float32").dataSync()), [1, -2, 0, 3]);
  tf.dispose([t, gt, dx, same, toInt, toBool]);
}

/** Gather gradient (UnsortedSegmentSum) against float64. */
function gatherGradCases(): void {
  const table = randomData(10 * 4, 21);
  const ids = [3, 1, 3, 9, 0, 3];
  const g = randomData(ids.length * 4, 22);
  const dT = tf.grad((t: tf.Tensor) =>
    tf.sum(tf.mul(tf.gather(t, tf.tensor(ids, [6], "int32")), tf.tensor(g, [6, 4])))
  )(tf.tensor(table, [10, 4]));
  const want = new Float64Array(40);
  ids.forEach((id, r) => {
    for (let k = 0; k < 4; k++) want[id * 4 + k] += g[r * 4 + k];
  });
  assert.ok(maxAbsDiff(dT.dataSync(), want) < TOL);
  dT.dispose();
  // Gather itself: any axis, short and long slices, int32 data, bad indices.
  const gathers: [number[], number][] = [[[10, 4], 0], [[10, 40], 0], [[3, 10, 5], 1], [
    [3, 4, 10],
    2,
  ]];
  for (const [shape, axis] of gathers) {
    const n = shape.reduce((p: number, q: number) => p * q, 1);
    const x = Array.from({ length: n }, (_, i) => i);
    const idx = [[3, 1], [3, 9], [0, 3]];
    const y = tf.gather(
      tf.tensor(x, [...shape], "int32"),
      tf.tensor2d(idx, [3, 2], "int32"),
      axis,
    );
    const want: number[] = [];
    const outer = shape.slice(0, axis).reduce((p: number, q: number) => p * q, 1);
    const dim = shape[axis],
      slice = shape.slice(axis + 1).reduce((p: number, q: number) => p * q, 1);
    for (let o = 0; o < outer; o++) {
      for (const v of idx.flat()) {
        for (let k = 0; k < slice; k++) want.push(x[(o * dim + v) * slice + k]);
      }
    }
    assert.deepEqual(y.shape, [...shape.slice(0, axis), 3, 2, ...shape.slice(axis + 1)]);
    assert.deepEqual(Array.from(y.dataSync()), want, `gather [${shape}] axis ${axis}`);
    y.dispose();
  }
  assert.throws(() => tf.gather(tf.zeros([4, 2]), tf.tensor1d([1, 4], "int32")), /index value 4/);
}

/** The suite: each case's title and body (which names the backend in its messages). */
const CASES: [string, (name: string) => void][] = [
  ["matMul, all transposes and batch broadcasts, against float64", matMulCases],
  ["matMul gradients, with broadcasting, against float64", matMulGradCases],
  ["fused matMul with bias and every activation, and its gradient", fusedMatMulCases],
  ["matMul with an empty inner dimension is zeros", emptyInnerMatMul],
  ["outputs that grow the wasm heap are computed right", heapGrowthOutputs],
  ["Tile, any rank and dtype, and its gradient", tileCases],
  ["Sum over any axes, keepDims, int32", sumCases],
  ["Identity shares data and frees it exactly once", identitySharing],
  ["Transpose, every permutation of rank ≤ 4, and Cast", transposeAndCast],
  ["gather gradient (UnsortedSegmentSum) against float64", gatherGradCases],
];

/**
 * Registers the kernel tests, named `${name}: ...`, for the backend selected
 * by then; with `ignore` they are listed as ignored (e.g. OpenBLAS missing).
 */
export function kernelSuite(name: string, ignore = false): void {
  for (const [title, fn] of CASES) {
    Deno.test({ name: `${name}: ${title}`, ignore, fn: () => fn(name) });
  }
}
