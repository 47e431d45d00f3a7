/**
 * Reading an experiment file (TypeScript, YAML or JSON) and mapping a path
 * inside it (`["axes", "model.heads", 2]`) back to a line and column, so that
 * every validation error points at the text to fix.
 *
 * @module
 */
import { isMap, isScalar, isSeq, type Node, parseDocument } from "yaml";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { Task } from "../tasks/task.ts";

/** A segment of a path inside the file: a key or an array index. */
export type Segment = string | number;

/** A 1-based position in the file. */
export interface Position {
  line: number;
  col: number;
}

/** An experiment file as read, before validation. */
export interface ExperimentSource {
  /** The file as given on the command line. */
  file: string;
  kind: "ts" | "yaml" | "json";
  /** The plain data the file declares (`undefined` when it could not be read). */
  data: unknown;
  /** Tasks a TypeScript experiment defines itself (`export const tasks = [...]`). */
  tasks: Task[];
  /** Syntax or load errors: `[position, message]`. */
  errors: [Position, string][];
  /**
   * Where `path` is written: the value, or with `key` the key itself. Falls
   * back to the deepest part of the path that exists.
   */
  locate(path: Segment[], key?: boolean): Position;
}

function positionAt(text: string, offset: number): Position {
  let line = 1, start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}

function fileKind(file: string): ExperimentSource["kind"] | undefined {
  if (/\.(ya?ml)$/i.test(file)) return "yaml";
  if (/\.json$/i.test(file)) return "json";
  if (/\.(ts|mts|js|mjs)$/i.test(file)) return "ts";
  return undefined;
}

/** Reads an experiment file; syntax problems are returned in `errors`, not thrown. */
export async function readExperimentSource(file: string): Promise<ExperimentSource> {
  const kind = fileKind(file);
  const start = { line: 1, col: 1 };
  const failed = (message: string): ExperimentSource => ({
    file,
    kind: kind ?? "yaml",
    data: undefined,
    tasks: [],
    errors: [[start, message]],
    locate: () => start,
  });
  if (!kind) {
    return failed(
      "an experiment file must end in .ts, .yaml, .yml or .json (got " +
        JSON.stringify(file) + ")",
    );
  }
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    return failed(`cannot read the file: ${(e as Error).message}`);
  }
  return kind === "ts" ? await readModule(file, text) : readDocument(file, text, kind);
}

/** A JSON syntax error (JSON is parsed as JSON: no trailing commas, comments or YAML). */
function jsonSyntaxError(text: string): [Position, string] | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    let offset = at ? Number(at[1]) : 0;
    let before = offset - 1;
    while (before >= 0 && /\s/.test(text[before])) before--;
    if (at && text[before] === "," && /[}\]]/.test(text[offset] ?? "")) {
      return [positionAt(text, before), "JSON syntax: a trailing comma (JSON allows none)"];
    }
    offset = Math.min(offset, text.length);
    const pos = positionAt(text, offset);
    return [pos, `JSON syntax: ${message.replace(/ in JSON at position.*$/, "")}`];
  }
}

function readDocument(file: string, text: string, kind: "yaml" | "json"): ExperimentSource {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const jsonError = kind === "json" ? jsonSyntaxError(text) : undefined;
  const errors: [Position, string][] = doc.errors.map((e) => [
    positionAt(text, e.pos[0]),
    `${kind === "json" ? "JSON" : "YAML"} syntax: ${e.message.split("\n")[0]}`,
  ]);
  if (jsonError && !errors.length) errors.push(jsonError);
  const locate = (path: Segment[], key = false): Position => {
    let node: unknown = doc.contents;
    let offset = (node as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as Node;
        if (last && key) return positionAt(text, keyNode.range?.[0] ?? offset);
        node = pair.value;
        offset = (node as Node | null)?.range?.[0] ?? keyNode.range?.[0] ?? offset;
      } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
        node = node.items[seg];
        offset = (node as Node | null)?.range?.[0] ?? offset;
      } else break;
    }
    return positionAt(text, offset);
  };
  return {
    file,
    kind,
    data: errors.length ? undefined : doc.toJS(),
    tasks: [],
    errors,
    locate,
  };
}

async function readModule(file: string, text: string): Promise<ExperimentSource> {
  const base: Omit<ExperimentSource, "data" | "tasks" | "errors"> = {
    file,
    kind: "ts",
    locate: (path, key) => locateInScript(text, path, key ?? false),
  };
  let mod: Record<string, unknown>;
  const href = pathToFileURL(resolve(file)).href;
  try {
    mod = await importWithin(href, loadTimeoutS());
  } catch (e) {
    return { ...base, data: undefined, tasks: [], errors: [moduleError(e, href)] };
  }
  const data = mod.default ?? mod.experiment;
  if (data === undefined) {
    return {
      ...base,
      data,
      tasks: [],
      errors: [[
        { line: 1, col: 1 },
        "the module must `export default defineExperiment({...})`",
      ]],
    };
  }
  const tasks = Array.isArray(mod.tasks) ? mod.tasks as Task[] : [];
  return { ...base, data, tasks, errors: [] };
}

/** Seconds an experiment module may take to load (`FUSELAB_LOAD_TIMEOUT_S`, default 60). */
function loadTimeoutS(): number {
  const v = Number(Deno.env.get("FUSELAB_LOAD_TIMEOUT_S"));
  return Number.isFinite(v) && v > 0 ? v : 60;
}

/** A module that did not finish loading in time (e.g. a top-level await that never resolves). */
class LoadTimeout extends Error {}

/**
 * Imports `href`, or fails after `seconds`. The pending timer also keeps the
 * event loop alive, so a top-level await that never resolves ends in our
 * error naming the file rather than Deno's own.
 */
async function importWithin(href: string, seconds: number): Promise<Record<string, unknown>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LoadTimeout()), seconds * 1000);
  });
  try {
    return await Promise.race([import(href), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Where and why a module failed to load: the position Deno gives for the
 * file (a syntax error's line and column, or the line a thrown error came
 * from), and the error's first line.
 */
function moduleError(e: unknown, href: string): [Position, string] {
  if (e instanceof LoadTimeout) {
    return [
      { line: 1, col: 1 },
      `the module did not finish loading in ${loadTimeoutS()} s: does it await, at top level, ` +
      "something that never resolves? (FUSELAB_LOAD_TIMEOUT_S sets the limit)",
    ];
  }
  const err = e as Error;
  const text = `${err?.message ?? e}\n${err?.stack ?? ""}`;
  const at = new RegExp(`${escapeRegExp(href)}:(\\d+):(\\d+)`).exec(text);
  const pos = at ? { line: Number(at[1]), col: Number(at[2]) } : { line: 1, col: 1 };
  const first = String(err?.message ?? e).split("\n")[0].replace(/^TypeError: (?=SyntaxError)/, "");
  const kind = err?.name && err.name !== "Error" && !/^\w*Error: /.test(first)
    ? `${err.name}: `
    : "";
  return [pos, `the module failed to load: ${kind}${first}`];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Best-effort location in a TypeScript object literal: each key is searched
 * after the previous one (`key:` or `"key":`), an index counts elements of the
 * array literal after the last key.
 */
function locateInScript(text: string, path: Segment[], key: boolean): Position {
  const start = Math.max(0, text.search(/defineExperiment\s*\(|export\s+default/));
  let at = start;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (typeof seg === "number") {
      const open = text.indexOf("[", at);
      if (open < 0) break;
      const el = elementStart(text, open, seg);
      if (el < 0) break;
      at = el;
      continue;
    }
    const re = new RegExp(`(["'\`]?)${escapeRegExp(seg)}\\1\\s*:`, "g");
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) break;
    const last = i === path.length - 1;
    if (last && key) return positionAt(text, m.index);
    // The value starts after the colon and any spaces.
    let v = m.index + m[0].length;
    while (v < text.length && /\s/.test(text[v])) v++;
    at = v;
  }
  return positionAt(text, at);
}

/** Offset of element `index` of the array literal opening at `open`, or −1. */
function elementStart(text: string, open: number, index: number): number {
  let depth = 0, count = 0, quote = "";
  let pos = open + 1;
  const skipSpace = (p: number) => {
    while (p < text.length && /\s/.test(text[p])) p++;
    return p;
  };
  if (index === 0) {
    const p = skipSpace(pos);
    return text[p] === "]" ? -1 : p;
  }
  for (; pos < text.length; pos++) {
    const c = text[pos];
    if (quote) {
      if (c === "\\") pos++;
      else if (c === quote) quote = "";
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "[" || c === "{" || c === "(") depth++;
    else if (c === "]" || c === "}" || c === ")") {
      if (depth === 0) return -1;
      depth--;
    } else if (c === "," && depth === 0) {
      count++;
      if (count === index) {
        const p = skipSpace(pos + 1);
        return text[p] === "]" ? -1 : p;
      }
    }
  }
  return -1;
}
