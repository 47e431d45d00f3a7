/**
 * No function over 150 lines (WGSL shader sources and the CLI's option table
 * are data, not functions, and are not counted): every function, method and
 * arrow function of lib/, tools/, bench/, examples/ and the entry points,
 * measured by a lint plugin over each file's syntax tree.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
const MAX_LINES = 150;

/**
 * Functions over the limit that another branch is splitting (file → why);
 * empty this list as those branches land.
 */
const PENDING: Record<string, string> = {
  "lib/report/report.ts": "renderReport, split into one function per section on branch stats",
  "lib/experiment/validate.ts": "the loader and variant checks, split on branch reliability",
};

/** A lint plugin that reports each function longer than `max` lines. */
function lengthPlugin(max: number): Deno.lint.Plugin {
  return {
    name: "fuselab",
    rules: {
      "function-length": {
        create(context) {
          const check = (node: Deno.lint.Node) => {
            const [a, b] = node.range;
            const lines = context.sourceCode.text.slice(a, b).split("\n").length;
            if (lines > max) context.report({ node, message: `${lines} lines` });
          };
          return {
            FunctionDeclaration: check,
            FunctionExpression: check,
            ArrowFunctionExpression: check,
          };
        },
      },
    },
  };
}

/** Functions over `max` lines in `source`, as `file:line (n lines)`. */
function longFunctions(file: string, source: string, max = MAX_LINES): string[] {
  return Deno.lint.runPlugin(lengthPlugin(max), file, source).map((d) => {
    const line = source.slice(0, d.range[0]).split("\n").length;
    return `${file}:${line} (${d.message})`;
  });
}

/** .ts files under a folder of the repository (results and dependencies aside). */
async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, dir))) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await tsFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

Deno.test(`no function over ${MAX_LINES} lines`, async () => {
  const files = ["mod.ts", "cli.ts"];
  for (const dir of ["lib", "tools", "bench", "examples"]) files.push(...await tsFiles(dir));
  const long: string[] = [];
  for (const f of files) {
    if (f in PENDING) continue;
    long.push(...longFunctions(f, await Deno.readTextFile(join(ROOT, f))));
  }
  assert.deepEqual(long, []);
});

Deno.test("the length check counts functions, methods and arrows, not data", () => {
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  x += ${i};`).join("\n");
  const source = `function long() {\n${body(5)}\n}
class C {\n  m() {\n${body(5)}\n  }\n}
const f = () => {\n${body(5)}\n};
const short = () => 1;
const table = [\n${body(9).replaceAll("x +=", "").replaceAll(";", ",")}\n];`;
  assert.deepEqual(longFunctions("x.ts", source, 6), [
    "x.ts:1 (7 lines)",
    "x.ts:9 (7 lines)",
    "x.ts:17 (7 lines)",
  ]);
});
