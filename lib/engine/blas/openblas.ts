/**
 * OpenBLAS through `Deno.dlopen` (needs `--allow-ffi`).
 *
 * Matrices are passed as native addresses (`usize`), so that a kernel can hand
 * OpenBLAS the wasm heap itself: no copies in or out. See `heap.ts` for the
 * rule that keeps those addresses valid.
 *
 * @module
 */

/** CBLAS constants (row-major storage, transposes). */
export const CBLAS = { RowMajor: 101, NoTrans: 111, Trans: 112 } as const;

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "usize", // A
      "i32", // lda
      "usize", // B
      "i32", // ldb
      "f32", // beta
      "usize", // C
      "i32", // ldc
    ],
    result: "void",
  },
  cblas_sgemv: {
    parameters: [
      "i32", // order
      "i32", // trans
      "i32", // M
      "i32", // N
      "f32", // alpha
      "usize", // A
      "i32", // lda
      "usize", // x
      "i32", // incx
      "f32", // beta
      "usize", // y
      "i32", // incy
    ],
    result: "void",
  },
  cblas_somatcopy: {
    parameters: [
      "i32", // order
      "i32", // trans
      "i32", // rows
      "i32", // cols
      "f32", // alpha
      "usize", // A
      "i32", // lda
      "usize", // B
      "i32", // ldb
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The calls kernels make; addresses are plain numbers (`usize` accepts them). */
export interface BlasFunctions {
  cblas_sgemm(
    order: number,
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
  ): void;
  cblas_sgemv(
    order: number,
    trans: number,
    m: number,
    n: number,
    alpha: number,
    a: number,
    lda: number,
    x: number,
    incx: number,
    beta: number,
    y: number,
    incy: number,
  ): void;
  /** OpenBLAS's out-of-place scaled copy/transpose: B = alpha·op(A). */
  cblas_somatcopy(
    order: number,
    trans: number,
    rows: number,
    cols: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
  ): void;
}

/** A loaded OpenBLAS. */
export interface OpenBlas {
  /** The file that was loaded. */
  path: string;
  /** `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen MAX_THREADS=64". */
  config: string;
  /** The BLAS calls. */
  fn: BlasFunctions;
  /** Sets OpenBLAS's thread count. */
  setThreads(n: number): void;
  /** OpenBLAS's thread count. */
  threads(): number;
  /** Unloads the library (kernels that use it must be uninstalled first). */
  close(): void;
}

/**
 * Where OpenBLAS is looked for: `$FUSELAB_OPENBLAS` alone when it is set (the
 * value `none` turns the accelerated backend off), else the usual install paths.
 */
export function openBlasCandidates(): string[] {
  const env = Deno.env.get("FUSELAB_OPENBLAS");
  if (env) return env === "none" ? [] : [env];
  const os = Deno.build.os;
  if (os === "darwin") {
    return [
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
    ];
  }
  if (os === "windows") return ["libopenblas.dll", "openblas.dll"];
  return [
    `/usr/lib/${Deno.build.arch}-linux-gnu/libopenblas.so.0`,
    "/usr/lib64/libopenblas.so.0",
    "/usr/lib/libopenblas.so.0",
    "/usr/local/lib/libopenblas.so.0",
    "libopenblas.so.0",
  ];
}

/**
 * Loads OpenBLAS from `path` or the first of {@link openBlasCandidates} that
 * opens. Throws an error listing what was tried and why each failed.
 */
export function loadOpenBlas(path?: string): OpenBlas {
  const tried: string[] = [];
  for (const p of path ? [path] : openBlasCandidates()) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(p, SYMBOLS);
    } catch (e) {
      const msg = (e as Error).message.split("\n")[0];
      tried.push(`${p}: ${msg}`);
      continue;
    }
    const cfg = lib.symbols.openblas_get_config();
    return {
      path: p,
      config: cfg ? Deno.UnsafePointerView.getCString(cfg).trim() : "OpenBLAS",
      fn: lib.symbols as unknown as BlasFunctions,
      setThreads: (n) => lib.symbols.openblas_set_num_threads(n),
      threads: () => lib.symbols.openblas_get_num_threads(),
      close: () => lib.close(),
    };
  }
  if (!tried.length) throw new Error("OpenBLAS is turned off (FUSELAB_OPENBLAS=none)");
  throw new Error(`OpenBLAS not found (tried ${tried.join("; ")})`);
}
