/**
 * The live report's worker thread (started by `lib/experiment/live.ts`):
 * rebuilds the live pages on request, so that a rebuild never runs on the
 * thread that trains. A request is `{ dir, root, state, index }`; the reply
 * is `{ ok, ms }` or `{ ok: false, error }`.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { buildLiveIndex, buildLiveReport, type LiveState } from "./live.ts";

/** A rebuild request. */
export interface LiveRequest {
  /** The experiment's results folder. */
  dir: string;
  /** The results root (for the index). */
  root: string;
  state: LiveState;
  /** Rebuild the index too. */
  index: boolean;
}

self.onmessage = async (e: MessageEvent<LiveRequest>) => {
  const { dir, root, state, index } = e.data;
  const t0 = performance.now();
  try {
    await buildLiveReport(dir, state);
    if (index) await buildLiveIndex(root, dir, state);
    self.postMessage({ ok: true, ms: performance.now() - t0 });
  } catch (err) {
    self.postMessage({ ok: false, error: (err as Error).message, ms: performance.now() - t0 });
  }
};
