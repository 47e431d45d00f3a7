// fuselab as a library: the Annotated Transformer's copy task, trained by hand.
// Run: deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys \
//        examples/library.ts [checkpoint path]
import * as tf from "@tensorflow/tfjs";
import {
  Adam,
  greedyDecode,
  LabelSmoothing,
  makeModel,
  noamRate,
  paddingMask,
  Rng,
  saveCheckpoint,
  selectBackend,
  targetMask,
  valueAndGrads,
} from "../mod.ts";

await selectBackend("auto");
const V = 11, LEN = 10, START = 1, BATCH = 32, D = 32, STEPS = 120;
const rng = new Rng(0);

// Model: a one-layer encoder–decoder; Adam updates it by parameter path.
const model = makeModel(V, V, { N: 1, dModel: D, dFF: 64, h: 2, dropout: 0 }, rng);
const adam = new Adam(model.trainableParameters(), { strict: true });
const criterion = new LabelSmoothing(V, 0, 0);

// Data: random tokens 1..V−1 after the start symbol; the target is the source.
function batch(n: number): tf.Tensor2D {
  const ids = Int32Array.from({ length: n * LEN }, (_, i) => i % LEN ? rng.int(1, V) : START);
  return tf.tensor2d(ids, [n, LEN], "int32");
}

// Training: loss and gradients keyed by parameter path, then one Adam step.
const losses: number[] = [];
for (let step = 1; step <= STEPS; step++) {
  const src = batch(BATCH);
  const tgt = src.slice([0, 0], [BATCH, LEN - 1]), tgtY = src.slice([0, 1], [BATCH, LEN - 1]);
  const { value, grads } = valueAndGrads(model, () => {
    const out = model.forward(src, tgt, paddingMask(src), targetMask(tgt));
    return tf.div(criterion.apply(model.generator.apply(out), tgtY), BATCH * (LEN - 1));
  });
  adam.apply(grads, noamRate(step, D, 1, 40));
  losses.push((await value.data())[0]);
  tf.dispose([src, tgt, tgtY, value, grads]);
}
console.log(`loss: ${losses[0].toFixed(3)} → ${losses[STEPS - 1].toFixed(3)}`);

// Evaluation: greedy decoding of fresh sequences; count the exact copies.
model.eval();
const src = batch(20);
const mask = paddingMask(src);
const out = greedyDecode(model, src, mask, LEN, START);
const [want, got] = [await src.array(), await out.array()];
const exact = want.filter((row, i) => row.every((t, j) => t === got[i][j])).length;
console.log(`exact copies: ${exact}/20`);
tf.dispose([src, mask, out]);

// Saving: parameters (PyTorch state_dict names) and Adam's moments, as safetensors.
const path = Deno.args[0] ?? "copy.safetensors";
await saveCheckpoint(path, model, adam, {
  step: STEPS,
  epoch: 1,
  trainSeconds: 0,
  metricsLines: 0,
  rng: { data: rng.state },
});
console.log(`checkpoint: ${path}`);
