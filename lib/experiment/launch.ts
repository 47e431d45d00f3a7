/**
 * The hook between `deno task exp` and a cluster launcher (`lib/launch/`).
 *
 * `deno task exp <file> --launcher slurm [args]` validates and plans the
 * experiment, writes the manifest, then calls `launch(ctx, args)` exported by
 * `lib/launch/slurm.ts`; each array task then runs
 * `deno task exp <file> --run-index <i> ...ctx.forwardArgs`.
 * `deno task exp status <file>` calls `slurmStatus(ctx)` from the same module
 * when `<experiment dir>/slurm.json` exists.
 *
 * @module
 */
import type { Experiment } from "./schema.ts";
import type { Manifest, ManifestRun, RunState } from "../contract/results.ts";

/** One planned run as a launcher sees it. */
export interface LaunchRun extends ManifestRun {
  /** Its state now (`pending` when it never started). */
  state: RunState;
  /** Its folder, `<resultsDir>/runs/<id>`. */
  dir: string;
}

/** What `--launcher` hands to a launcher's `launch(ctx, args)` (and `slurmStatus(ctx)`). */
export interface LaunchContext {
  /** The experiment file as given on the command line. */
  file: string;
  /** The validated experiment. */
  experiment: Experiment;
  /** The plan, as written to manifest.json. */
  manifest: Manifest;
  /** The experiment's results folder, `<resultsRoot>/<name>`. */
  resultsDir: string;
  /** The results root (`results` by default). */
  resultsRoot: string;
  /** The runs selected (all planned runs, or those `--only` keeps), with their states. */
  runs: LaunchRun[];
  /**
   * Arguments each array task must pass after `exp <file> --run-index <i>`
   * so that it plans the same runs (e.g. `--backend wasm --results /scratch/results`).
   */
  forwardArgs: string[];
}

/** The module a launcher provides (`lib/launch/<name>.ts`). */
export interface LauncherModule {
  /** Submits the runs; returns the process exit code. `args` are the CLI arguments left over. */
  launch(ctx: LaunchContext, args: string[]): Promise<number>;
  /** Scheduler state per run id (e.g. `PENDING`, `RUNNING 0:42`), shown by `exp status`. */
  slurmStatus?(ctx: LaunchContext): Promise<Record<string, string> | undefined>;
}
