import assert from "node:assert/strict";
import { encodeNpy, parseNpy, readNpy } from "./npy.ts";
import { DataError } from "./errors.ts";
import { wordTokenize } from "./tokenizer.ts";
import { BpeTokenizer, learnBpe } from "./bpe.ts";
import { Vocab } from "./vocab.ts";
import { lengthBuckets, padSequences } from "./batching.ts";
import { Rng } from "../util/rng.ts";

/** A .npy file as numpy writes it: magic, version, header length, dict header, data. */
function npy(major: number, header: string, data: Uint8Array): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const total = pre + header.length + 1;
  const pad = (64 - (total % 64)) % 64;
  const h = header + " ".repeat(pad) + "\n";
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(new TextEncoder().encode(h), pre);
  out.set(data, pre + h.length);
  return out;
}

Deno.test("npy: v1 float32, v2 int64, big-endian, bool, Fortran order", () => {
  const f32 = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  const a = parseNpy(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32));
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6]);
  const i64 = new Uint8Array(new BigInt64Array([7n, -2n]).buffer);
  const b = parseNpy(npy(2, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", i64));
  assert.deepEqual([...b.data], [7, -2]);
  const be = new Uint8Array(8);
  new DataView(be.buffer).setFloat64(0, 1.5, false);
  assert.deepEqual([
    ...parseNpy(npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", be)).data,
  ], [1.5]);
  const bools = parseNpy(
    npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", new Uint8Array([1, 0, 1])),
  );
  assert.deepEqual([...bools.data], [1, 0, 1]);
  // Fortran order: column-major [[1,2,3],[4,5,6]] is stored 1 4 2 5 3 6.
  const fo = new Uint8Array(new Float32Array([1, 4, 2, 5, 3, 6]).buffer);
  const c = parseNpy(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", fo));
  assert.deepEqual([...c.data], [1, 2, 3, 4, 5, 6]);
  // Our own writer round-trips, header aligned to 64 bytes.
  const enc = encodeNpy([0.5, -1, 2], [3, 1]);
  assert.equal((enc.length - 12) % 64, 0);
  const d = parseNpy(enc);
  assert.deepEqual(d.shape, [3, 1]);
  assert.deepEqual([...d.data], [0.5, -1, 2]);
});

Deno.test("npy: bad files are DataErrors naming the file and field", async () => {
  assert.throws(() => parseNpy(new Uint8Array(20), "x.npy"), /x\.npy: header: not a \.npy file/);
  assert.throws(
    () =>
      parseNpy(
        npy(1, "{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(12)),
        "s.npy",
      ),
    /s\.npy: descr: unsupported dtype '<U3'/,
  );
  assert.throws(
    () =>
      parseNpy(
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(8)),
        "t.npy",
      ),
    (e: unknown) =>
      e instanceof DataError &&
      /t\.npy: data: shape \(4\) needs 16 bytes of data, the file has 8/.test(e.message),
  );
  await assert.rejects(readNpy("/nonexistent/a.npy"), /a\.npy: file: cannot be read/);
});

Deno.test("tokenizers, BPE and vocabulary", () => {
  assert.deepEqual(wordTokenize("Don't stop, Bob!"), ["don", "'", "t", "stop", ",", "bob", "!"]);
  const merges = learnBpe(["low low low lower lowest", "newest newest"], 10);
  // Pair counts: "l o" 5; then "w e" 4 (lower, lowest, newest×2) beats "lo w</w>" 3.
  assert.deepEqual(merges.slice(0, 2), [["l", "o"], ["w", "e"]]);
  const bpe = new BpeTokenizer(merges);
  const toks = bpe.encode("lowest newer");
  assert.deepEqual(bpe.toWords(toks), ["lowest", "newer"]);
  assert.ok(toks.length < "lowestnewer".length, `${toks}`);
  const v = Vocab.build([["b", "a", "b"], ["c", "b", "a"], ["d"]], 2);
  assert.deepEqual(v.itos, ["<blank>", "<s>", "</s>", "<unk>", "b", "a"]);
  assert.deepEqual(v.encode(["a", "c"]), [5, 3]);
  assert.deepEqual(v.decode([1, 4, 5, 2, 4]), ["b", "a"]);
});

Deno.test("batching: padding, length buckets, deterministic order", () => {
  const p = padSequences([[1, 2], [3], [4, 5, 6]]);
  assert.deepEqual([...p.data], [1, 2, 0, 3, 0, 0, 4, 5, 6]);
  const lens = [5, 1, 4, 2, 3, 1, 5, 2];
  const b = lengthBuckets(8, (i) => lens[i], 2);
  assert.deepEqual(b.map((x) => x.map((i) => lens[i])), [[1, 1], [2, 2], [3, 4], [5, 5]]);
  const r1 = lengthBuckets(8, (i) => lens[i], 2, new Rng(3));
  const r2 = lengthBuckets(8, (i) => lens[i], 2, new Rng(3));
  assert.deepEqual(r1, r2);
  assert.deepEqual(r1.flat().sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  // A token budget: batches of at most 6 padded tokens.
  const t = lengthBuckets(8, (i) => lens[i], 8, undefined, 6);
  for (const x of t) {
    assert.ok(x.length * Math.max(...x.map((i) => lens[i])) <= 6 || x.length === 1);
  }
});

Deno.test("jsonl: vectors, frames, object lines; errors name the line", async () => {
  const { readJsonlFeatures } = await import("./jsonl.ts");
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/v.jsonl`, '[1, 2]\n\n{"emb": [3, 4]}\r\n[5, 6]');
  const v = await readJsonlFeatures(`${dir}/v.jsonl`, "emb");
  assert.equal(v.kind, "vector");
  if (v.kind === "vector") assert.deepEqual([...v.data], [1, 2, 3, 4, 5, 6]);
  await Deno.writeTextFile(`${dir}/f.jsonl`, "[[1, 2], [3, 4]]\n[[5, 6]]\n");
  const f = await readJsonlFeatures(`${dir}/f.jsonl`);
  assert.equal(f.kind === "frames" && f.seqs.length, 2);
  if (f.kind === "frames") assert.deepEqual([...f.seqs[1]], [5, 6]);
  await Deno.writeTextFile(`${dir}/w.jsonl`, "[1, 2]\n[1, 2, 3]\n");
  await assert.rejects(
    readJsonlFeatures(`${dir}/w.jsonl`),
    /w\.jsonl: line 2: has 3 features, earlier lines have 2/,
  );
  await Deno.writeTextFile(`${dir}/j.jsonl`, "[1, 2]\n[1, 2\n");
  await assert.rejects(readJsonlFeatures(`${dir}/j.jsonl`), /j\.jsonl: line 2: is not valid JSON/);
  await Deno.writeTextFile(`${dir}/k.jsonl`, '{"x": [1]}\n');
  await assert.rejects(
    readJsonlFeatures(`${dir}/k.jsonl`),
    /k\.jsonl: line 1: object has no "features" key \(keys: x\)/,
  );
});
