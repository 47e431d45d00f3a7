/**
 * `deno task report [experiment file | results/<name> dir] [--results <root>]`:
 * rebuilds report pages from the results folder alone. Without an argument,
 * every experiment under the results root and the index; with one, that
 * experiment and the index.
 *
 * @module
 */
import { buildIndex, buildReport, experimentDirs, loadResults } from "../report/mod.ts";
import { csvFiles } from "../report/csv.ts";
import { writeAtomic } from "../report/report.ts";

const HELP =
  `usage: deno task report [<experiment file> | <results/<name> folder>] [--results <root>] [--csv]

  (no argument)         rebuild every results/<experiment>/report.html and results/index.html
  <experiment file>     rebuild the report of the experiment run from that file
  <results folder>      rebuild the report of that folder (one holding manifest.json)
  --results <root>      where experiments are stored (default: results)
  --csv                 write only runs.csv and metrics.csv beside each report (no pages)
`;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Normalizes a path for comparison: no leading `./`, no trailing `/`. */
function norm(p: string): string {
  return p.replace(/\\/g, "/").replace(/^(\.\/)+/, "").replace(/\/+$/, "");
}

/**
 * Finds the results folder of an argument: a folder with `manifest.json`,
 * or an experiment file named by some manifest's `file` (or whose base name
 * is a folder under the results root).
 */
export async function resolveTarget(arg: string, root: string): Promise<string> {
  if (await isFile(`${norm(arg)}/manifest.json`)) return norm(arg);
  const dirs = await experimentDirs(root).catch(() => [] as string[]);
  const base = norm(arg).split("/").pop()!.replace(/\.(ts|js|mts|json|ya?ml)$/, "");
  const abs = (p: string) => norm(p.startsWith("/") ? p : `${Deno.cwd()}/${norm(p)}`);
  const files: [string, string][] = [];
  for (const dir of dirs) {
    try {
      const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
      if (typeof m.file === "string") files.push([dir, m.file]);
    } catch {
      // unreadable manifests are reported when their folder is built
    }
  }
  const exact = files.find(([, f]) => norm(f) === norm(arg) || abs(f) === abs(arg));
  if (exact) return exact[0];
  const sameBase = files.filter(([, f]) => norm(f).split("/").pop() === norm(arg).split("/").pop());
  if (sameBase.length === 1) return sameBase[0][0];
  const byName = dirs.find((d) => d.split("/").pop() === base);
  if (byName) return byName;
  throw new Error(
    `${arg}: no results found (looked for a manifest.json in ${arg} and for ${root}/*/manifest.json ` +
      `with "file": "${arg}"); run \`deno task exp ${arg}\` first, or pass results/<name>.`,
  );
}

/** Entry point; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  let root = "results";
  let csvOnly = false;
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--help") {
      console.log(HELP);
      return 0;
    } else if (a === "--results") {
      if (!args[i + 1]) {
        console.error("report: --results needs a folder\n\n" + HELP);
        return 2;
      }
      root = norm(args[++i]);
    } else if (a.startsWith("--results=")) {
      root = norm(a.slice("--results=".length));
    } else if (a === "--csv") {
      csvOnly = true;
    } else if (a.startsWith("-")) {
      console.error(`report: unknown option ${a}\n\n${HELP}`);
      return 2;
    } else targets.push(a);
  }
  let failures = 0;
  try {
    const dirs = targets.length
      ? await Promise.all(targets.map((t) => resolveTarget(t, root)))
      : await experimentDirs(root);
    if (!dirs.length) console.log(`report: no experiments under ${root}/ yet`);
    for (const dir of dirs) {
      try {
        if (csvOnly) {
          for (const [path, text] of csvFiles(await loadResults(dir))) {
            await writeAtomic(path, text);
            console.log(`report: ${path}`);
          }
        } else console.log(`report: ${await buildReport(dir)}`);
      } catch (e) {
        failures++;
        console.error(`report: ${dir}: ${(e as Error).message}`);
      }
    }
    // the index of each folder holding a built experiment (the results root by default)
    const parents = targets.length
      ? [...new Set(dirs.map((d) => d.includes("/") ? d.replace(/\/[^/]*$/, "") : "."))]
      : [root];
    if (!csvOnly) { for (const p of parents) console.log(`report: ${await buildIndex(p)}`); }
  } catch (e) {
    console.error(`report: ${(e as Error).message}`);
    return 1;
  }
  return failures ? 1 : 0;
}
