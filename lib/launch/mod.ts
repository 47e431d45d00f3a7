/**
 * Launchers: running an experiment's planned runs somewhere other than this
 * process. `slurm`: one Slurm job array per submission (see docs/slurm.md).
 *
 * @module
 */
export * from "./slurm.ts";
export * from "./slurm_args.ts";
export * from "./sbatch.ts";
export * from "./slurm_query.ts";
export * from "./slurm_record.ts";
export * from "./slurm_status.ts";
