import assert from "node:assert/strict";
import { summarize } from "./sweep.ts";
import type { StatusRecord } from "../contract/results.ts";

Deno.test("summarize: a primary metric stored as null (NaN) reads 'none', not a crash", () => {
  const done = (
    final: Record<string, number | null>,
  ) => ({ state: "done", trainSeconds: 12.34, final } as unknown as StatusRecord);
  assert.equal(
    summarize(done({ "test/ppl": 7.123456 }), "test/ppl"),
    "done in 12.3s, test/ppl 7.123",
  );
  assert.equal(summarize(done({ "test/ppl": null }), "test/ppl"), "done in 12.3s, test/ppl none");
  assert.equal(summarize(done({}), "test/ppl"), "done in 12.3s");
});
