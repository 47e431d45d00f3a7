/**
 * Writes the small example data the task experiment files read, under
 * `experiments/tasks/data/` (deterministic; run from the repository root):
 *
 *   deno run -A experiments/tasks/make_data.ts            # everything
 *   deno run -A experiments/tasks/make_data.ts mmimdb     # only the HDF5 file
 *
 * - `mmimdb_example.hdf5`: 800 movies in the layout of `multimodal_imdb.hdf5`
 *   (features 300-d, vgg_features 4096-d, genres 23), about 14 MB: not committed.
 * - `translation/{train,val,test}.tsv`: a toy English→French corpus (committed).
 * - `features/`: per-modality `.npy`/`.jsonl` files and labels (committed).
 *
 * @module
 */
import {
  translationExample,
  writeFeaturesExample,
  writeMmimdbExample,
} from "../../lib/tasks/examples.ts";

const root = new URL("./data/", import.meta.url).pathname;
const only = Deno.args[0];

if (!only || only === "mmimdb") {
  await Deno.mkdir(root, { recursive: true });
  await writeMmimdbExample(`${root}mmimdb_example.hdf5`, { rows: 800, seed: 0 });
  console.log(`wrote ${root}mmimdb_example.hdf5`);
}
if (!only || only === "translation") {
  const dir = `${root}translation/`;
  await Deno.mkdir(dir, { recursive: true });
  const lines = translationExample(700, 0);
  await Deno.writeTextFile(`${dir}train.tsv`, lines.slice(0, 500).join("\n") + "\n");
  await Deno.writeTextFile(`${dir}val.tsv`, lines.slice(500, 600).join("\n") + "\n");
  await Deno.writeTextFile(`${dir}test.tsv`, lines.slice(600).join("\n") + "\n");
  console.log(`wrote ${dir}{train,val,test}.tsv`);
}
if (!only || only === "features") {
  await writeFeaturesExample(`${root}features`, { train: 300, val: 90, test: 90 }, 0);
  console.log(`wrote ${root}features/`);
}
