/**
 * Live reports while a sweep runs (the sweep side). The progress display of
 * a sweep, subclassed: it sees every run start, progress and finish, and
 * asks for a rebuild of the live pages (`lib/report/live.ts`)
 *
 * - when a run starts or finishes (report and index), and
 * - when an evaluation has arrived (a run's progress leaves the
 *   `evaluating` phase; the report only), throttled: at least `minGapS`
 *   seconds and 20 times the last rebuild's own duration after the last
 *   rebuild ended, so rebuilding takes at most 1/21 of one core.
 *
 * Rebuilds run one at a time in a worker thread (`lib/report/live_worker.ts`),
 * never on the thread that trains (with `--jobs 1` the sweep trains in this
 * process; a rebuild there would stall training for its duration). The
 * thread loads the report modules once, where a process per rebuild would
 * pay Deno's start and the module load every time. `close()` waits for the
 * rebuild in flight and ends the thread; the sweep then builds the final
 * pages as `deno task report` does.
 *
 * `deno task exp --no-live` turns live pages off (the final report is built
 * all the same).
 *
 * @module
 */
import type { LoopProgress } from "../train/loop.ts";
import { ProgressDisplay } from "./progress.ts";
import type { LoadedExperiment } from "./loader.ts";
import type { LiveState } from "../report/live.ts";

/** What the live pages say: the `LiveState` of `lib/report/live.ts`. */
export type LiveSnapshot = LiveState;

/** Where live pages go and how often they change. */
export interface LiveOptions {
  /** The experiment's results folder. */
  experimentDir: string;
  /** The results root (its `index.html`). */
  resultsRoot: string;
  /** Runs this sweep covers, skipped ones included. */
  total: number;
  /** Of those, already finished before the sweep. */
  finishedBefore: number;
  /** Runs trained at once. */
  jobs: number;
  /** Seconds between reloads of a live page (default 10). */
  refreshS?: number;
  /** Least seconds between rebuilds for evaluations (default 5). */
  minGapS?: number;
  /** Called with each rebuild's duration in ms (for measurements). */
  onRebuild?: (ms: number) => void;
}

interface Running {
  label: string;
  startedAt: number;
  p?: LoopProgress;
}

/**
 * The ETA of a sweep: work left on the running runs (their own ETA, else a
 * typical run's length less their time so far) plus a typical run for each
 * pending one, spread over `jobs` slots, and never less than the longest
 * running run's ETA. Undefined without a basis (no finished run and no
 * running one with an ETA).
 */
export function sweepEta(
  running: { elapsedS: number; etaS?: number }[],
  pending: number,
  finishedS: number[],
  jobs: number,
): number | undefined {
  const perRun = finishedS.length
    ? finishedS.reduce((a, b) => a + b, 0) / finishedS.length
    : (() => {
      const known = running.filter((r) => r.etaS !== undefined);
      return known.length
        ? known.reduce((a, r) => a + r.elapsedS + r.etaS!, 0) / known.length
        : undefined;
    })();
  if (perRun === undefined) return undefined;
  const left = running.map((r) => r.etaS ?? Math.max(0, perRun - r.elapsedS));
  const work = left.reduce((a, b) => a + b, 0) + pending * perRun;
  return Math.max(work / Math.max(1, jobs), ...left, 0);
}

/** A progress display that also keeps the live pages up to date. */
export class LiveDisplay extends ProgressDisplay {
  #opts: Required<Omit<LiveOptions, "onRebuild">> & Pick<LiveOptions, "onRebuild">;
  #running = new Map<string, Running>();
  #finishedS: number[] = [];
  #finished: number;
  #started = 0;
  #worker?: Worker;
  #inFlight?: Promise<void>;
  #wanted?: "report" | "index";
  #timer?: ReturnType<typeof setTimeout>;
  #lastEnd = 0;
  #lastMs = 0;
  #closed = false;
  #warned = false;
  #rebuilds = 0;
  #rebuildMs = 0;

  /**
   * @param total runs to do in this sweep (as for ProgressDisplay)
   * @param display ProgressDisplay's options
   * @param live where the live pages go
   */
  constructor(
    total: number,
    display: { tty?: boolean; plainEveryS?: number },
    live: LiveOptions,
  ) {
    super(total, display);
    this.#opts = { refreshS: 10, minGapS: 5, ...live };
    this.#finished = live.finishedBefore;
  }

  /** A run started: the pages show it running. */
  override start(id: string, label: string) {
    super.start(id, label);
    this.#started++;
    this.#running.set(id, { label, startedAt: performance.now() });
    this.#request("index", true);
  }

  /** A run's progress: after an evaluation, a throttled rebuild. */
  override update(id: string, p: LoopProgress) {
    super.update(id, p);
    const r = this.#running.get(id);
    if (!r) return;
    const evaluated = r.p?.phase === "evaluating" && p.phase !== "evaluating";
    r.p = p;
    if (evaluated) this.#request("report", false);
  }

  /** A run ended: the pages show it finished. */
  override finish(id: string, summary: string) {
    super.finish(id, summary);
    const r = this.#running.get(id);
    this.#running.delete(id);
    if (r) this.#finishedS.push((performance.now() - r.startedAt) / 1000);
    this.#finished++;
    this.#request("index", true);
  }

  /** Where the sweep stands now. */
  snapshot(): LiveSnapshot {
    const now = performance.now();
    const running = [...this.#running.values()];
    return {
      at: new Date().toISOString(),
      total: this.#opts.total,
      finished: this.#finished,
      running: running.map((r) => ({
        label: r.label.replace(/^\S+ /, ""),
        step: r.p?.step,
        totalSteps: r.p?.totalSteps,
        phase: r.p?.phase,
      })),
      pending: Math.max(0, this.total - this.#started),
      etaS: sweepEta(
        running.map((r) => ({
          elapsedS: (now - r.startedAt) / 1000,
          etaS: r.p?.phase === "training" ? r.p.etaS : undefined,
        })),
        Math.max(0, this.total - this.#started),
        this.#finishedS,
        this.#opts.jobs,
      ),
      refreshS: this.#opts.refreshS,
    };
  }

  #request(what: "report" | "index", now: boolean) {
    if (this.#closed) return;
    this.#wanted = this.#wanted === "index" || what === "index" ? "index" : "report";
    if (this.#inFlight) return; // picked up when the rebuild in flight ends
    const gap = now ? 0 : Math.max(this.#opts.minGapS * 1000, 20 * this.#lastMs);
    const wait = Math.max(0, this.#lastEnd + gap - performance.now());
    if (this.#timer !== undefined) {
      if (!now) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#rebuild();
    }, wait);
  }

  #rebuild() {
    const what = this.#wanted;
    if (!what || this.#closed) return;
    this.#wanted = undefined;
    this.#worker ??= new Worker(new URL("../report/live_worker.ts", import.meta.url), {
      type: "module",
    });
    const worker = this.#worker;
    this.#inFlight = new Promise<void>((resolve) => {
      worker.onmessage = (e: MessageEvent<{ ok: boolean; ms: number; error?: string }>) => {
        this.#lastMs = e.data.ms;
        this.#rebuilds++;
        this.#rebuildMs += e.data.ms;
        this.#opts.onRebuild?.(e.data.ms);
        if (!e.data.ok && !this.#warned) {
          this.#warned = true;
          this.log(`live report not updated (the final one will be): ${e.data.error}`);
        }
        resolve();
      };
      worker.onerror = (e) => {
        e.preventDefault();
        if (!this.#warned) {
          this.#warned = true;
          this.log(`live report not updated (the final one will be): ${e.message}`);
        }
        resolve();
      };
    }).then(() => {
      this.#inFlight = undefined;
      this.#lastEnd = performance.now();
      if (this.#wanted) this.#request(this.#wanted, this.#wanted === "index");
    });
    worker.postMessage({
      dir: this.#opts.experimentDir,
      root: this.#opts.resultsRoot,
      state: this.snapshot(),
      index: what === "index",
    });
  }

  /**
   * Stops live rebuilding: waits for the rebuild in flight and ends the
   * thread. The caller then builds the final pages.
   */
  async stopLive(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#inFlight) await this.#inFlight;
    this.#worker?.terminate();
    this.#worker = undefined;
    if (this.#rebuilds) {
      this.log(
        `live report: rebuilt ${this.#rebuilds} time${this.#rebuilds === 1 ? "" : "s"} while ` +
          `training, ${Math.round(this.#rebuildMs / this.#rebuilds)} ms each on average ` +
          `(in a worker thread)`,
      );
    }
  }
}

/**
 * The display for a sweep: a {@link LiveDisplay} when the report is built
 * and live pages are wanted, else a plain {@link ProgressDisplay}.
 */
export function sweepDisplay(
  todo: number,
  display: { tty?: boolean },
  live: LiveOptions | undefined,
): ProgressDisplay & { stopLive?: () => Promise<void> } {
  return live && todo > 0
    ? new LiveDisplay(todo, display, live)
    : new ProgressDisplay(todo, display);
}

/**
 * The live pages' options for a sweep, or undefined when it builds no report.
 * `skipped`: runs of the sweep already finished (or trained elsewhere).
 */
export function liveFor(
  loaded: LoadedExperiment,
  opts: { report?: boolean; live?: boolean; jobs: number; runs: unknown[] },
  skipped: number,
): LiveOptions | undefined {
  if (!(opts.report ?? true) || opts.live === false) return undefined;
  return {
    experimentDir: loaded.experimentDir,
    resultsRoot: loaded.resultsRoot,
    total: opts.runs.length,
    finishedBefore: skipped,
    jobs: Math.max(1, opts.jobs),
  };
}
