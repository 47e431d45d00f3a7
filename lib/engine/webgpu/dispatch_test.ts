import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import { probeWebGPU } from "./backend.ts";
import { dispatchCounters, rawDispatch, setUniformArena, uniformLayout } from "./dispatch.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
const probe = await probeWebGPU();
if (!probe.ok) console.log(`SKIP webgpu dispatch tests: ${probe.why}`);

type Field = { type: string; data: number[] };

/** Field lists like TF.js's programs pass: NaN/Inf, shapes and strides of ranks 1–6, sizes, scalars. */
function fieldLists(): Field[][] {
  const f = (n: number, base: number): Field => ({
    type: base % 2 ? "float32" : "int32",
    data: Array.from({ length: n }, (_, i) => base * 10 + i + 1),
  });
  const lists: Field[][] = [];
  for (
    const ranks of [[1], [2, 3], [4, 4, 1], [5, 2], [6, 1, 3], [3, 5, 6, 2], [6, 6], [1, 1, 1]]
  ) {
    const l: Field[] = [{ type: "float32", data: [NaN] }, { type: "float32", data: [Infinity] }];
    ranks.forEach((r, i) => l.push(f(r, 2 * i), f(Math.max(r - 1, 0), 2 * i + 1)));
    l.push({ type: "int32", data: [4096] }, { type: "float32", data: [0.5] });
    lists.push(l);
  }
  return lists;
}

Deno.test({
  name: "uniform arena: the layout and bytes TF.js's makeUniforms writes, for every field mix",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    // deno-lint-ignore no-explicit-any
    const backend = tf.backend() as any;
    const original = Object.getPrototypeOf(backend).makeUniforms;
    for (const fields of fieldLists()) {
      // TF.js's own: capture what it writes.
      let written: Uint8Array | undefined;
      const queue = backend.queue;
      const write = queue.writeBuffer;
      queue.writeBuffer = (
        _b: unknown,
        _o: number,
        data: ArrayBuffer,
        off: number,
        size: number,
      ) => {
        written = new Uint8Array(data.slice(off, off + size));
      };
      let ref: { size: number };
      try {
        ref = original.call(backend, structuredClone(fields));
      } finally {
        queue.writeBuffer = write;
      }
      const { offsets, size } = uniformLayout(fields);
      assert.equal(size, ref.size, `size for ${fields.map((x) => x.data.length)}`);
      const mine = new DataView(new ArrayBuffer(size));
      // An empty field (the strides of a rank-1 shape) holds a 1, as in TF.js.
      fields.forEach((x, i) =>
        (x.data.length ? x.data : [1]).forEach((v, j) => {
          const at = offsets[i] + 4 * j;
          if (x.type === "int32") mine.setInt32(at, v, true);
          else mine.setFloat32(at, v, true);
        })
      );
      assert.deepEqual(new Uint8Array(mine.buffer), written);
    }
  },
});

Deno.test({
  name: "uniform arena: one uniform write per submit, and results equal to TF.js's own uniforms",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    const x = tf.tidy(() => tf.range(0, 3 * 1024).reshape([3, 1024]).div(1000));
    const run = async () => {
      const y = tf.tidy(() => {
        let h = x;
        for (let i = 0; i < 40; i++) h = h.mul(1.01).add(i / 100).transpose().transpose();
        return h.sum(1);
      });
      const v = Array.from(await y.data());
      y.dispose();
      return v;
    };
    const before = dispatchCounters();
    const arena = await run();
    const after = dispatchCounters();
    assert.ok(
      after.arenaDispatches - before.arenaDispatches >= 120,
      "the dispatches used the arena",
    );
    assert.ok(
      after.uniformWrites - before.uniformWrites <=
        (after.arenaDispatches - before.arenaDispatches) / 10,
      "many dispatches per uniform write",
    );
    setUniformArena(false);
    try {
      const own = await run();
      assert.equal(dispatchCounters().arenaDispatches, after.arenaDispatches);
      assert.deepEqual(arena, own);
    } finally {
      setUniformArena(true);
    }
    x.dispose();
  },
});

/** a ← a + s·b and b ← 2·b in one dispatch (two buffers written), one thread an element. */
const TWO_OUTPUTS = `
  struct Uniforms { size : i32, s : f32, };
  @group(0) @binding(0) var<storage, read_write> A : array<f32>;
  @group(0) @binding(1) var<storage, read_write> B : array<f32>;
  @group(0) @binding(2) var<uniform> u : Uniforms;
  @compute @workgroup_size(64)
  fn main(@builtin(global_invocation_id) id : vec3<u32>) {
    let i = i32(id.x);
    if (i >= u.size) { return; }
    A[i] = A[i] + u.s * B[i];
    B[i] = 2.0 * B[i];
  }
`;

Deno.test({
  name: "rawDispatch: one own module writes two buffers, in order with TF.js's kernels",
  ignore: !probe.ok,
  fn: async () => {
    await selectBackend("webgpu");
    // deno-lint-ignore no-explicit-any
    const backend = tf.backend() as any;
    const n = 1000;
    const a = tf.range(0, n).add(0); // own data (not shared with a reshape)
    const b = tf.ones([n]).mul(3);
    const aBefore = a.mul(10); // recorded before the dispatch: sees the old a
    const before = dispatchCounters().rawDispatches;
    rawDispatch(backend, {
      key: "fuselab_test_two_outputs",
      code: TWO_OUTPUTS,
      tensors: [a, b],
      uniforms: [{ type: "int32", data: [n] }, { type: "float32", data: [0.5] }],
      workgroups: [Math.ceil(n / 64), 1, 1],
    });
    const aAfter = a.mul(10); // recorded after: sees the new a
    assert.equal(dispatchCounters().rawDispatches - before, 1);
    const [va, vb, v0, v1] = await Promise.all([a, b, aBefore, aAfter].map((t) => t.data()));
    for (let i = 0; i < n; i++) {
      assert.equal(va[i], i + 1.5, `a[${i}]`);
      assert.equal(vb[i], 6, `b[${i}]`);
      assert.equal(v0[i], 10 * i, `a·10 recorded before, [${i}]`);
      assert.ok(Math.abs(v1[i] - 10 * (i + 1.5)) <= 1e-3, `a·10 recorded after, [${i}]`);
    }
    tf.dispose([a, b, aBefore, aAfter]);
  },
});
