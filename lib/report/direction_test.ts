import assert from "node:assert/strict";
import { higherIsBetter } from "./analysis.ts";
import type { ExperimentData } from "./load.ts";

Deno.test("metric direction: the primary's from the manifest; error rates, losses and time lower", () => {
  const data = {
    manifest: { primary: { metric: "test/wer", higherIsBetter: false } },
  } as unknown as ExperimentData;
  assert.equal(higherIsBetter(data, "test/wer"), false);
  for (const k of ["test/per", "val/per", "test/wer_greedy", "test/per_greedy", "val/cer"]) {
    assert.equal(higherIsBetter(data, k), false, k);
  }
  for (const k of ["val/loss", "test/perplexity", "train/seconds"]) {
    assert.equal(higherIsBetter(data, k), false, k);
  }
  for (const k of ["test/accuracy", "test/bleu", "train/itemsPerS", "test/exact_match"]) {
    assert.equal(higherIsBetter(data, k), true, k);
  }
});
