/**
 * A small assembler for SIMD WebAssembly kernels that work on the TF.js wasm
 * backend's memory: named locals, structured loops and the handful of i32,
 * f32 and f32x4 instructions row-wise kernels need. The modules are built
 * from these opcodes at start-up, so the repository carries no binary and no
 * build step (as `adam_simd.ts`).
 *
 * @module
 */

/** Value types. */
export const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
type ValType = typeof I32 | typeof F32 | typeof V128;

const SIMD = 0xfd;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A function body under construction: every method appends and returns `this`. */
export class Fn {
  readonly code: number[] = [];
  readonly locals: ValType[] = [];

  constructor(readonly params: ValType[]) {}

  /** A new local of `type`; returns its index. */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  get(i: number): this {
    this.code.push(0x20, ...uleb(i));
    return this;
  }
  set(i: number): this {
    this.code.push(0x21, ...uleb(i));
    return this;
  }
  i32(c: number): this {
    this.code.push(0x41, ...sleb(c | 0));
    return this;
  }
  f32(c: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, c, true);
    this.code.push(0x43, ...b);
    return this;
  }
  /** Raw opcodes. */
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  // i32
  add(): this {
    return this.op(0x6a);
  }
  mul(): this {
    return this.op(0x6c);
  }
  geU(): this {
    return this.op(0x4f);
  }

  // f32
  fadd(): this {
    return this.op(0x92);
  }
  fsub(): this {
    return this.op(0x93);
  }
  fmul(): this {
    return this.op(0x94);
  }
  fdiv(): this {
    return this.op(0x95);
  }
  fsqrt(): this {
    return this.op(0x91);
  }
  fgt(): this {
    return this.op(0x5e);
  }
  /** f32.load at the i32 address on the stack. */
  fload(): this {
    return this.op(0x2a, 2, 0);
  }
  /** f32.store (address, value). */
  fstore(): this {
    return this.op(0x38, 2, 0);
  }
  /** select (a, b, cond): a when cond ≠ 0. */
  select(): this {
    return this.op(0x1b);
  }

  // f32x4
  vload(): this {
    return this.op(SIMD, 0x00, 2, 0);
  }
  /** v128.store (address, value). */
  vstore(): this {
    return this.op(SIMD, 0x0b, 2, 0);
  }
  splat(): this {
    return this.op(SIMD, 0x13);
  }
  vadd(): this {
    return this.op(SIMD, 0xe4, 0x01);
  }
  vsub(): this {
    return this.op(SIMD, 0xe5, 0x01);
  }
  vmul(): this {
    return this.op(SIMD, 0xe6, 0x01);
  }
  vmax(): this {
    return this.op(SIMD, 0xe9, 0x01);
  }
  /** f32x4.nearest (round to nearest, ties to even). */
  vnearest(): this {
    return this.op(SIMD, 0x6a);
  }
  /** i32x4.trunc_sat_f32x4_s. */
  vtruncI32(): this {
    return this.op(SIMD, 0xf8, 0x01);
  }
  /** i32x4.add. */
  iadd4(): this {
    return this.op(SIMD, 0xae, 0x01);
  }
  /** i32x4.shl by the i32 on the stack. */
  ishl4(): this {
    return this.op(SIMD, 0xab, 0x01);
  }
  /** i32x4.splat. */
  isplat(): this {
    return this.op(SIMD, 0x11);
  }
  /** f32.max. */
  fmax(): this {
    return this.op(0x97);
  }
  /** The largest of the four lanes of local `v` (NaN if any lane is NaN). */
  hmax(v: number): this {
    this.get(v).op(SIMD, 0x1f, 0);
    for (let lane = 1; lane < 4; lane++) this.get(v).op(SIMD, 0x1f, lane).fmax();
    return this;
  }
  /** The sum of the four lanes of local `v`, as an f32. */
  hsum(v: number): this {
    this.get(v).op(SIMD, 0x1f, 0);
    for (let lane = 1; lane < 4; lane++) this.get(v).op(SIMD, 0x1f, lane).fadd();
    return this;
  }
  /** Sets v128 local `v` to zeros. */
  vzero(v: number): this {
    return this.f32(0).splat().set(v);
  }

  /**
   * `for (i = 0; i < end; i += step) body()` over i32 locals (`end` a local).
   */
  loop(i: number, end: number, step: number, body: () => void): this {
    this.i32(0).set(i);
    this.op(0x02, 0x40, 0x03, 0x40); // block, loop
    this.get(i).get(end).geU().op(0x0d, 1); // if i ≥ end: break
    body();
    this.get(i).i32(step).add().set(i).op(0x0c, 0); // i += step; continue
    this.op(0x0b, 0x0b); // end loop, end block
    return this;
  }

  /** The encoded body (locals and code). */
  bytes(): number[] {
    const groups: number[] = [];
    for (const t of this.locals) groups.push(1, t);
    const body = [...uleb(this.locals.length), ...groups, ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** A name: its UTF-8 length, then its bytes. */
export const name = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
/** A section: its id, its size, its content. */
export const section = (id: number, content: number[]): number[] => [
  id,
  ...uleb(content.length),
  ...content,
];

/**
 * A module importing `env.memory`, with each function (its parameter types,
 * no results, its encoded body) exported by name.
 */
export function moduleOf(
  fns: { name: string; params: number[]; body: number[] }[],
): Uint8Array<ArrayBuffer> {
  const types = fns.flatMap((f) => [0x60, ...uleb(f.params.length), ...f.params, 0]);
  const exports = fns.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)]);
  const n = uleb(fns.length);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [...n, ...types]),
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 0x01]), // memory, min 1 page
    ...section(3, [...n, ...fns.map((_, i) => i)]), // function i has type i
    ...section(7, [...n, ...exports]),
    ...section(10, [...n, ...fns.flatMap((f) => f.body)]),
  ]);
}

/** {@link moduleOf} for functions built with {@link Fn}. */
export function assemble(fns: Record<string, Fn>): Uint8Array<ArrayBuffer> {
  return moduleOf(
    Object.entries(fns).map(([n, f]) => ({ name: n, params: f.params, body: f.bytes() })),
  );
}

/**
 * The wasm backend's `WebAssembly.Memory`, when it is the one its heap views
 * use (kernels are then bound to it), else `undefined`.
 */
export function backendMemory(
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: WebAssembly.Memory } },
): WebAssembly.Memory | undefined {
  const memory = wasm.asm?.memory;
  return memory && memory.buffer === wasm.HEAPU8.buffer ? memory : undefined;
}

/**
 * The kernels `make` binds to the backend's memory, when they are on and the
 * width is a multiple of 4 (one SIMD vector), else `null`.
 */
export function simdKernels<T>(
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: WebAssembly.Memory } },
  width: number,
  on: boolean,
  make: (memory: WebAssembly.Memory) => T | null,
): T | null {
  if (!on || width % 4 !== 0) return null;
  const memory = backendMemory(wasm);
  return memory ? make(memory) : null;
}

/**
 * Instantiates `bytes` against `memory` once per memory; `null` where the
 * runtime cannot (no SIMD, or a shared memory).
 */
export function instantiator<T>(
  bytes: () => Uint8Array<ArrayBuffer>,
): (memory: WebAssembly.Memory) => T | null {
  const cache = new WeakMap<WebAssembly.Memory, T | null>();
  return (memory) => {
    if (cache.has(memory)) return cache.get(memory)!;
    let out: T | null = null;
    try {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes()), { env: { memory } });
      out = inst.exports as unknown as T;
    } catch {
      out = null;
    }
    cache.set(memory, out);
    return out;
  };
}
