/**
 * The Adam update as a 128-bit SIMD WebAssembly loop that works directly on
 * the TF.js wasm backend's memory (the module imports that `WebAssembly.Memory`,
 * so nothing is copied). Four float32 lanes at a time, each operation an IEEE
 * float32 operation in the same order as the tensor formula, so the result is
 * bit-for-bit the formula's.
 *
 * The module is assembled here from its opcodes (about 200 bytes; the text
 * form is in the comments beside each part), so the repository carries no
 * binary blob and no build step.
 *
 * @module
 */
import { instantiator, moduleOf, uleb } from "./wasm_asm.ts";

/** `adam(p, g, m, v, pOut, mOut, vOut, n, β1, 1−β1, β2, 1−β2, c1, c2, ε, lr, decay)`. */
export type AdamSimd = (
  p: number,
  g: number,
  m: number,
  v: number,
  pOut: number,
  mOut: number,
  vOut: number,
  n: number,
  b1: number,
  a1: number,
  b2: number,
  a2: number,
  c1: number,
  c2: number,
  eps: number,
  lr: number,
  decay: number,
) => void;

// Opcodes used below.
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41, I32_ADD = 0x6a, I32_SHL = 0x74;
const I32_GE_U = 0x4f, BLOCK = 0x02, LOOP = 0x03, VOID = 0x40, BR_IF = 0x0d, BR = 0x0c, END = 0x0b;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00, 4, 0], V128_STORE = [SIMD, 0x0b, 4, 0]; // align 16, offset 0
const F32X4_SPLAT = [SIMD, 0x13];
const F32X4_SQRT = [SIMD, 0xe3, 0x01], F32X4_ADD = [SIMD, 0xe4, 0x01];
const F32X4_SUB = [SIMD, 0xe5, 0x01], F32X4_MUL = [SIMD, 0xe6, 0x01];
const F32X4_DIV = [SIMD, 0xe7, 0x01];
const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;

// Parameters 0–7 (i32): byte offsets of p, g, m, v, pOut, mOut, vOut, then n.
// Parameters 8–16 (f32): β1, 1−β1, β2, 1−β2, c1, c2, ε, lr, decay.
// Locals: 17 i (byte offset), 18 end, 19–27 the scalars splatted, 28 g, 29 m′, 30 v′.
const [P, G, M, V, PO, MO, VO, N] = [0, 1, 2, 3, 4, 5, 6, 7];
const [I, E] = [17, 18];
const [B1, A1, B2, A2, C1, C2, EPS, LR, DEC] = [19, 20, 21, 22, 23, 24, 25, 26, 27];
const [GV, MV, VV] = [28, 29, 30];

/** `local.get base; local.get i; i32.add` — the address of lane group i. */
const at = (base: number) => [LOCAL_GET, base, LOCAL_GET, I, I32_ADD];

function body(): number[] {
  const code: number[] = [];
  // Splat each scalar parameter into a v128 local.
  for (let k = 0; k < 9; k++) code.push(LOCAL_GET, 8 + k, ...F32X4_SPLAT, LOCAL_SET, B1 + k);
  code.push(LOCAL_GET, N, I32_CONST, 2, I32_SHL, LOCAL_SET, E); // end = n · 4
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(LOCAL_GET, I, LOCAL_GET, E, I32_GE_U, BR_IF, 1); // if i ≥ end: break
  code.push(...at(G), ...V128_LOAD, LOCAL_SET, GV);
  // m′ = m·β1 + g·(1−β1)
  code.push(...at(M), ...V128_LOAD, LOCAL_GET, B1, ...F32X4_MUL);
  code.push(LOCAL_GET, GV, LOCAL_GET, A1, ...F32X4_MUL, ...F32X4_ADD, LOCAL_SET, MV);
  // v′ = v·β2 + (g·g)·(1−β2)
  code.push(...at(V), ...V128_LOAD, LOCAL_GET, B2, ...F32X4_MUL);
  code.push(LOCAL_GET, GV, LOCAL_GET, GV, ...F32X4_MUL, LOCAL_GET, A2, ...F32X4_MUL);
  code.push(...F32X4_ADD, LOCAL_SET, VV);
  code.push(...at(MO), LOCAL_GET, MV, ...V128_STORE);
  code.push(...at(VO), LOCAL_GET, VV, ...V128_STORE);
  // p′ = p·decay − ((m′/c1) / (√(v′/c2) + ε))·lr
  code.push(...at(PO), ...at(P), ...V128_LOAD, LOCAL_GET, DEC, ...F32X4_MUL);
  code.push(LOCAL_GET, MV, LOCAL_GET, C1, ...F32X4_DIV);
  code.push(LOCAL_GET, VV, LOCAL_GET, C2, ...F32X4_DIV, ...F32X4_SQRT);
  code.push(LOCAL_GET, EPS, ...F32X4_ADD, ...F32X4_DIV, LOCAL_GET, LR, ...F32X4_MUL);
  code.push(...F32X4_SUB, ...V128_STORE);
  code.push(LOCAL_GET, I, I32_CONST, 16, I32_ADD, LOCAL_SET, I, BR, 0); // i += 16
  code.push(END, END, END); // loop, block, function
  const locals = [2, 2, I32, 12, V128]; // 2 entries: 2 × i32, 12 × v128
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

/** The module's bytes. */
export function adamSimdModule(): Uint8Array<ArrayBuffer> {
  const params = [I32, I32, I32, I32, I32, I32, I32, I32, ...new Array(9).fill(F32)];
  return moduleOf([{ name: "adam", params, body: body() }]);
}

const instance = instantiator<{ adam: AdamSimd }>(adamSimdModule);

/**
 * The SIMD update bound to `memory` (the wasm backend's), or `null` where the
 * runtime cannot instantiate it (no SIMD, or a shared memory); compiled once
 * per memory.
 */
export function adamSimdFor(memory: WebAssembly.Memory): AdamSimd | null {
  return instance(memory)?.adam ?? null;
}
