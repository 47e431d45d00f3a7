/**
 * WGSL rewrites applied to TF.js's WebGPU shaders before they compile.
 *
 * `@tensorflow/tfjs-backend-webgpu@4.22.0` emits two kinds of shader that a
 * strict WGSL compiler (Deno's naga, recent Chrome's Tint) rejects or
 * miscompiles; the installed package is never edited, the text is rewritten
 * instead when the GPU device is asked to compile it:
 *
 * - **TransposeProgram** passes the element read from `A` straight to
 *   `setOutputAtIndex(flatIndex : i32, value : f32)`. When `A` holds int32 data
 *   (int or bool tensors, a float32 tensor made by `cast` of one, any reduction
 *   over a non-last axis of those) the read is an `i32`, WGSL has no implicit
 *   conversion, and the pipeline is invalid. The read becomes `f32(...)`, as in
 *   the upstream fix (tfjs PR 8616).
 * - **atomicAdd on an int32 result** (UnsortedSegmentSum, Scatter, Bincount...)
 *   adds `bitcast<i32>(value)` where `value` is an `f32`, so it sums the float
 *   bit patterns. `i32(value)` converts instead (an identity on `i32`).
 *
 * @module
 */

/** One rewrite: which programs it touches and how. */
export interface ShaderFix {
  /** Short name, reported when applied. */
  name: string;
  /** Whether the fix applies to this program (label = TF.js program class name). */
  applies(label: string): boolean;
  /** The rewrite; returns the code unchanged when the pattern is absent. */
  rewrite(code: string): string;
}

const TRANSPOSE_READ =
  /setOutputAtIndex\(flatIndex,\s*(A\[getIndexFromCoords\dD\([^\]]*?uniforms\.aShape\)\])\)/g;
const ATOMIC_I32_ADD = /atomicAdd\(([^;]*?),\s*bitcast<i32>\(([^;]*?)\)\);/g;

/** The rewrites fuselab applies, in order. */
export const SHADER_FIXES: readonly ShaderFix[] = [
  {
    name: "transpose-f32-read",
    applies: (label) => label === "TransposeProgram",
    rewrite: (code) => code.replace(TRANSPOSE_READ, "setOutputAtIndex(flatIndex, f32($1))"),
  },
  {
    name: "atomic-add-i32-convert",
    applies: () => true,
    rewrite: (code) => code.replace(ATOMIC_I32_ADD, "atomicAdd($1, i32($2));"),
  },
];

/**
 * Applies every {@link SHADER_FIXES} entry that matches `label` to `code`.
 * Returns the new code and the names of the fixes that changed it.
 */
export function patchShader(label: string, code: string): { code: string; applied: string[] } {
  const applied: string[] = [];
  for (const fix of SHADER_FIXES) {
    if (!fix.applies(label)) continue;
    const next = fix.rewrite(code);
    if (next !== code) applied.push(fix.name);
    code = next;
  }
  return { code, applied };
}
