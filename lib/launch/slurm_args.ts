/**
 * Options of `deno task exp <file> --launcher slurm`: the resources every
 * array task asks for, the array's parallelism, and extra `sbatch` arguments.
 *
 * @module
 */

/** Parsed `--launcher slurm` options. */
export interface SlurmOptions {
  /** `--partition P`: the partition (queue) to submit to. */
  partition?: string;
  /** `--time T`: wall-clock limit per run, in a Slurm time format (`30`, `2:00:00`, `1-00:00`). */
  time?: string;
  /** `--cpus-per-task C`. */
  cpusPerTask?: number;
  /** `--mem M`: memory per run (`4G`, `500M`). */
  mem?: string;
  /** `--gpus G`: GPUs per run (`1`, `a100:1`). */
  gpus?: string;
  /** `--max-parallel K`: at most K runs at once (`--array=...%K`); unset: Slurm decides. */
  maxParallel?: number;
  /** `--sbatch-arg A` (repeatable): passed to both `sbatch` calls as is, e.g. `--account=lab`. */
  sbatchArgs: string[];
  /** `--dry-run`: write the batch scripts and print the `sbatch` commands, submit nothing. */
  dryRun: boolean;
  /** `--no-report`: submit no report job after the array. */
  noReport: boolean;
}

/** Options and the value each one takes, for the help text and errors. */
export const SLURM_FLAGS: Record<string, string> = {
  "--partition": "P",
  "--time": "T",
  "--cpus-per-task": "C",
  "--mem": "M",
  "--gpus": "G",
  "--max-parallel": "K",
  "--sbatch-arg": "ARG",
  "--dry-run": "",
  "--no-report": "",
};

/** Help text for the `--launcher slurm` options. */
export const SLURM_HELP =
  `--launcher slurm options (after --: deno task exp <file> --launcher slurm -- ...):
  --partition P        partition to submit to (default: the cluster's default)
  --time T             time limit per run: MM, HH:MM:SS, D-HH, D-HH:MM (default: the partition's)
  --cpus-per-task C    CPUs per run
  --mem M              memory per run, e.g. 4G or 500M
  --gpus G             GPUs per run, e.g. 1 or a100:1
  --max-parallel K     at most K runs at once (sbatch --array=...%K)
  --sbatch-arg ARG     an extra sbatch argument, e.g. --sbatch-arg=--account=lab (repeatable)
  --dry-run            write the batch scripts and print the sbatch commands; submit nothing
  --no-report          submit no report job (build it later: deno task report <file>)
`;

const TIME = /^(\d+-\d+(:\d+(:\d+)?)?|\d+(:\d+(:\d+)?)?|UNLIMITED|INFINITE)$/i;
const MEM = /^\d+[KMGT]?$/i;
const GPUS = /^([A-Za-z0-9_.-]+:)?\d+$/;

/**
 * Parses `--launcher slurm` options (`--flag value` or `--flag=value`).
 * `ignore` lists arguments the caller already consumed (the experiment file,
 * `--launcher`, `slurm`), which are skipped wherever they appear.
 * Throws an error naming the option and the fix on anything else.
 */
export function parseSlurmArgs(args: string[], ignore: string[] = []): SlurmOptions {
  const out: SlurmOptions = { sbatchArgs: [], dryRun: false, noReport: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (ignore.includes(arg)) continue;
    if (arg === "--launcher" || arg === "--launcher=slurm") {
      if (arg === "--launcher" && args[i + 1] === "slurm") i++;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (!(flag in SLURM_FLAGS)) {
      throw new Error(
        `--launcher slurm: unknown option "${arg}". Known options: ` +
          `${Object.keys(SLURM_FLAGS).join(", ")} (see docs/slurm.md).`,
      );
    }
    if (flag === "--dry-run" || flag === "--no-report") {
      if (flag !== arg) throw new Error(`--launcher slurm: ${flag} takes no value`);
      if (flag === "--dry-run") out.dryRun = true;
      else out.noReport = true;
      continue;
    }
    let value: string | undefined;
    if (flag !== arg) value = arg.slice(eq + 1);
    else {
      value = args[++i];
      if (value === undefined) {
        throw new Error(`--launcher slurm: ${flag} needs a value: ${flag} ${SLURM_FLAGS[flag]}`);
      }
    }
    switch (flag) {
      case "--partition":
        out.partition = check(flag, value, /^[^\s,]+(,[^\s,]+)*$/, "a partition name, e.g. gpu");
        break;
      case "--time":
        out.time = check(flag, value, TIME, "minutes, HH:MM:SS, D-HH or D-HH:MM:SS, e.g. 2:00:00");
        break;
      case "--cpus-per-task":
        out.cpusPerTask = positiveInt(flag, value);
        break;
      case "--mem":
        out.mem = check(flag, value, MEM, "a size such as 4G or 500M");
        break;
      case "--gpus":
        out.gpus = check(flag, value, GPUS, "a count such as 1, or type:count such as a100:1");
        break;
      case "--max-parallel":
        out.maxParallel = positiveInt(flag, value);
        break;
      case "--sbatch-arg":
        if (!value.startsWith("-")) {
          throw new Error(
            `--launcher slurm: --sbatch-arg "${value}" is not an sbatch option; ` +
              `write it as --sbatch-arg=--account=lab`,
          );
        }
        out.sbatchArgs.push(value);
        break;
    }
  }
  return out;
}

function check(flag: string, value: string, re: RegExp, want: string): string {
  if (!re.test(value)) {
    throw new Error(`--launcher slurm: ${flag} "${value}" is not valid; give ${want}`);
  }
  return value;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) {
    throw new Error(`--launcher slurm: ${flag} "${value}" must be a whole number of at least 1`);
  }
  return n;
}
