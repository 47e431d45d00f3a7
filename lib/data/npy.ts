/**
 * NumPy `.npy` files (format versions 1, 2 and 3), parsed here: the magic
 * string, the header length (uint16 in v1, uint32 in v2/v3), and the header,
 * a Python dict literal with `descr`, `fortran_order` and `shape`.
 * Little- and big-endian numbers, booleans, Fortran order.
 *
 * @module
 */
import { DataError } from "./errors.ts";

/** An n-d array read from a `.npy` file, in C (row-major) order. */
export interface NpyArray {
  shape: number[];
  /** NumPy dtype string as in the header, e.g. `<f4`. */
  dtype: string;
  data:
    | Float32Array
    | Float64Array
    | Int32Array
    | Uint8Array
    | Int8Array
    | Int16Array
    | Uint16Array
    | Uint32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The header of a `.npy` file and where its data starts. */
export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data. */
  offset: number;
}

/** Parses a `.npy` header from the first bytes of the file. */
export function parseNpyHeader(bytes: Uint8Array, file = "<npy>"): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DataError(
      file,
      "header",
      "not a .npy file (no \\x93NUMPY magic)",
      "save with numpy.save",
    );
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let len: number, start: number;
  if (major === 1) {
    len = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    len = view.getUint32(8, true);
    start = 12;
  } else {
    throw new DataError(file, "header", `unsupported .npy format version ${major}`);
  }
  if (bytes.length < start + len) {
    throw new DataError(file, "header", "file ends inside the header");
  }
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, start + len),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DataError(
      file,
      "header",
      `cannot read descr/fortran_order/shape from ${text.trim()}`,
    );
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new DataError(file, "shape", `bad shape (${shapeText})`);
  }
  return { descr, fortranOrder: fortran === "True", shape, offset: start + len };
}

const TYPES: Record<string, [number, (v: DataView, o: number, le: boolean) => number, string]> = {
  f4: [4, (v, o, le) => v.getFloat32(o, le), "f4"],
  f8: [8, (v, o, le) => v.getFloat64(o, le), "f8"],
  f2: [2, (v, o, le) => half(v.getUint16(o, le)), "f4"],
  i1: [1, (v, o) => v.getInt8(o), "i1"],
  u1: [1, (v, o) => v.getUint8(o), "u1"],
  b1: [1, (v, o) => v.getUint8(o), "u1"],
  i2: [2, (v, o, le) => v.getInt16(o, le), "i2"],
  u2: [2, (v, o, le) => v.getUint16(o, le), "u2"],
  i4: [4, (v, o, le) => v.getInt32(o, le), "i4"],
  u4: [4, (v, o, le) => v.getUint32(o, le), "u4"],
  i8: [8, (v, o, le) => Number(v.getBigInt64(o, le)), "f8"],
  u8: [8, (v, o, le) => Number(v.getBigUint64(o, le)), "f8"],
};

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * Math.pow(2, -14) * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * Math.pow(2, e - 15) * (1 + f / 1024);
}

function makeArray(kind: string, n: number): NpyArray["data"] {
  switch (kind) {
    case "f4":
      return new Float32Array(n);
    case "f8":
      return new Float64Array(n);
    case "i1":
      return new Int8Array(n);
    case "u1":
      return new Uint8Array(n);
    case "i2":
      return new Int16Array(n);
    case "u2":
      return new Uint16Array(n);
    case "i4":
      return new Int32Array(n);
    default:
      return new Uint32Array(n);
  }
}

/** Parses a whole `.npy` file already in memory. */
export function parseNpy(bytes: Uint8Array, file = "<npy>"): NpyArray {
  const h = parseNpyHeader(bytes, file);
  const m = /^([<>|=])([a-z])(\d+)$/.exec(h.descr);
  const key = m ? `${m[2]}${m[3]}` : "";
  const t = TYPES[key];
  if (!m || !t) {
    throw new DataError(
      file,
      "descr",
      `unsupported dtype '${h.descr}'`,
      "save numeric arrays (float32/float64/int/bool), e.g. arr.astype('float32')",
    );
  }
  const le = m[1] !== ">";
  const n = h.shape.reduce((a, b) => a * b, 1);
  const [size, get, outKind] = t;
  if (bytes.length < h.offset + n * size) {
    throw new DataError(
      file,
      "data",
      `shape (${h.shape}) needs ${n * size} bytes of data, the file has ${bytes.length - h.offset}`,
    );
  }
  const start = bytes.byteOffset + h.offset;
  if (key === "f4" && le && !h.fortranOrder && start % 4 === 0) {
    // The common case: a view on the file's bytes, no second copy of the data.
    return { shape: h.shape, dtype: h.descr, data: new Float32Array(bytes.buffer, start, n) };
  }
  const view = new DataView(bytes.buffer, start, n * size);
  const data = makeArray(outKind, n);
  if (!h.fortranOrder || h.shape.length < 2) {
    for (let i = 0; i < n; i++) data[i] = get(view, i * size, le);
  } else {
    // Element at C index (i0..ik) sits at Fortran offset Σ i_j · Π_{l<j} d_l.
    const dims = h.shape, k = dims.length;
    const strides = new Array(k).fill(1);
    for (let j = 1; j < k; j++) strides[j] = strides[j - 1] * dims[j - 1];
    const idx = new Array(k).fill(0);
    for (let c = 0; c < n; c++) {
      let off = 0;
      for (let j = 0; j < k; j++) off += idx[j] * strides[j];
      data[c] = get(view, off * size, le);
      for (let j = k - 1; j >= 0; j--) {
        if (++idx[j] < dims[j]) break;
        idx[j] = 0;
      }
    }
  }
  return { shape: h.shape, dtype: h.descr, data };
}

/** Reads a `.npy` file. */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new DataError(path, "file", `cannot be read: ${(e as Error).message}`);
  }
  return parseNpy(bytes, path);
}

/** Writes a float32 C-order `.npy` (v1) file: for examples and tests. */
export function encodeNpy(
  data: ArrayLike<number>,
  shape: number[],
  dtype: "<f4" | "<i4" = "<f4",
): Uint8Array {
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(", ")}${
    shape.length === 1 ? "," : ""
  }), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = dict + " ".repeat(pad % 64) + "\n";
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  for (let i = 0; i < data.length; i++) {
    if (dtype === "<f4") view.setFloat32(10 + header.length + 4 * i, data[i], true);
    else view.setInt32(10 + header.length + 4 * i, data[i], true);
  }
  return out;
}
