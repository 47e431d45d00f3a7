/**
 * Small example data sets in the formats the file-based tasks read, for
 * tests and for the shipped experiment files (`experiments/tasks/`):
 * an MM-IMDb-layout HDF5 file, a parallel corpus, and per-modality feature
 * files. Each is deterministic for its seed and has a learnable signal.
 *
 * @module
 */
import h5wasm from "h5wasm/node";
import { Rng } from "../util/rng.ts";
import { encodeNpy } from "../data/npy.ts";

/** Sizes of an example MM-IMDb file. */
export interface MmimdbExampleOptions {
  rows?: number;
  textDim?: number;
  imageDim?: number;
  classes?: number;
  seed?: number;
}

/**
 * Writes an HDF5 file with the layout of `multimodal_imdb.hdf5`: datasets
 * `features` [rows, textDim] float32, `vgg_features` [rows, imageDim] float32
 * (non-negative, like ReLU outputs) and `genres` [rows, classes] int8
 * multi-hot. Genres are drawn with decreasing frequency (at least one per
 * movie); both modalities are noisy linear views of the genres.
 */
export async function writeMmimdbExample(
  path: string,
  opts: MmimdbExampleOptions = {},
): Promise<void> {
  const rows = opts.rows ?? 800, dt = opts.textDim ?? 300, di = opts.imageDim ?? 4096;
  const k = opts.classes ?? 23;
  const rng = new Rng(opts.seed ?? 0);
  const freq = Array.from({ length: k }, (_, g) => 0.5 / (1 + 0.3 * g));
  const wt = Float32Array.from({ length: dt * k }, () => rng.normal());
  const wi = Float32Array.from({ length: di * k }, () => rng.normal());
  const genres = new Int8Array(rows * k);
  const text = new Float32Array(rows * dt), image = new Float32Array(rows * di);
  for (let r = 0; r < rows; r++) {
    let any = false;
    for (let g = 0; g < k; g++) {
      if (rng.next() < freq[g]) {
        genres[r * k + g] = 1;
        any = true;
      }
    }
    if (!any) genres[r * k + rng.int(0, k)] = 1;
    for (let d = 0; d < dt; d++) {
      let acc = 0;
      for (let g = 0; g < k; g++) acc += genres[r * k + g] * wt[d * k + g];
      text[r * dt + d] = 0.6 * acc + rng.normal();
    }
    for (let d = 0; d < di; d++) {
      let acc = 0;
      for (let g = 0; g < k; g++) acc += genres[r * k + g] * wi[d * k + g];
      image[r * di + d] = Math.max(0, 0.6 * acc + rng.normal());
    }
  }
  await h5wasm.ready;
  const f = new h5wasm.File(path, "w");
  try {
    f.create_dataset({ name: "features", data: text, shape: [rows, dt] });
    f.create_dataset({ name: "vgg_features", data: image, shape: [rows, di] });
    f.create_dataset({ name: "genres", data: genres, shape: [rows, k] });
  } finally {
    f.close();
  }
}

const WORDS: [string, string][] = [
  ["the", "le"],
  ["cat", "chat"],
  ["dog", "chien"],
  ["bird", "oiseau"],
  ["sees", "voit"],
  ["eats", "mange"],
  ["likes", "aime"],
  ["big", "grand"],
  ["small", "petit"],
  ["red", "rouge"],
  ["house", "maison"],
  ["fish", "poisson"],
];

/**
 * A toy English→French corpus (`the big cat sees the fish` →
 * `le chat grand voit le poisson`: nouns before adjectives in French) as
 * TSV lines, deterministic for `seed`.
 */
export function translationExample(n: number, seed = 0): string[] {
  const rng = new Rng(seed);
  const dict = new Map(WORDS);
  const nouns = ["cat", "dog", "bird", "house", "fish"], verbs = ["sees", "eats", "likes"];
  const adjs = ["big", "small", "red"];
  const np = () => {
    const noun = nouns[rng.int(0, nouns.length)];
    const adj = rng.next() < 0.5 ? adjs[rng.int(0, adjs.length)] : undefined;
    const en = adj ? ["the", adj, noun] : ["the", noun];
    const fr = adj ? ["le", dict.get(noun)!, dict.get(adj)!] : ["le", dict.get(noun)!];
    return [en, fr];
  };
  return Array.from({ length: n }, () => {
    const [s1, f1] = np(), [s2, f2] = np();
    const v = verbs[rng.int(0, verbs.length)];
    return `${[...s1, v, ...s2].join(" ")}\t${[...f1, dict.get(v)!, ...f2].join(" ")}`;
  });
}

/**
 * Per-modality feature files for the `features` task in `dir`:
 * `<split>_audio.npy` [n, 6] float32, `<split>_text.jsonl` (one array of 5
 * numbers per line) and `<split>_labels.txt` (a class id 0–2 per line), for
 * the splits train, val and test. Each class shifts both modalities.
 */
export async function writeFeaturesExample(
  dir: string,
  sizes = { train: 300, val: 90, test: 90 },
  seed = 0,
) {
  await Deno.mkdir(dir, { recursive: true });
  const rng = new Rng(seed);
  const ca = Array.from({ length: 3 }, () => Array.from({ length: 6 }, () => rng.normal()));
  const ct = Array.from({ length: 3 }, () => Array.from({ length: 5 }, () => rng.normal()));
  for (const [split, n] of Object.entries(sizes)) {
    const audio = new Float32Array(n * 6), text: string[] = [], labels: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = rng.int(0, 3);
      labels.push(String(c));
      for (let d = 0; d < 6; d++) audio[i * 6 + d] = ca[c][d] + 0.8 * rng.normal();
      text.push(JSON.stringify(ct[c].map((m) => Number((m + 0.8 * rng.normal()).toFixed(4)))));
    }
    await Deno.writeFile(`${dir}/${split}_audio.npy`, encodeNpy(audio, [n, 6]));
    await Deno.writeTextFile(`${dir}/${split}_text.jsonl`, text.join("\n") + "\n");
    await Deno.writeTextFile(`${dir}/${split}_labels.txt`, labels.join("\n") + "\n");
  }
}
