/**
 * The OpenBLAS-accelerated kernels for the wasm backend (issue 7 fills this in).
 *
 * @module
 */

/** Result of trying to install the OpenBLAS kernels. */
export interface BlasInstall {
  ok: boolean;
  why: string;
  details?: Record<string, string>;
}

/** Installs the OpenBLAS kernels on the wasm backend, when OpenBLAS loads. */
export function installBlasKernels(): Promise<BlasInstall> {
  return Promise.resolve({ ok: false, why: "OpenBLAS kernels are not built yet" });
}
