/**
 * Progress of a sweep. On a terminal: one bar per active run (step/epoch,
 * loss, throughput, ETA) and one for the sweep, redrawn in place. When the
 * output is piped: plain lines, at most one per run every `plainEveryS`
 * seconds, plus a line when a run starts and ends.
 *
 * @module
 */
import type { LoopProgress } from "../train/loop.ts";

/** What the display knows about an active run. */
interface Active {
  label: string;
  p?: LoopProgress;
  lastPlain: number;
}

/** Formats seconds as `1:05` or `1:02:03`. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? h + ":" : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.floor(f * width);
  return "█".repeat(full) + (full < width ? "░".repeat(width - full) : "");
}

function describe(p: LoopProgress): string {
  const parts = [
    `step ${p.step}/${p.totalSteps}`,
    `epoch ${p.epoch.toFixed(1)}/${p.epochs}`,
  ];
  if (p.loss !== undefined) parts.push(`loss ${p.loss.toPrecision(4)}`);
  if (p.itemsPerS !== undefined) parts.push(`${Math.round(p.itemsPerS)} items/s`);
  if (p.phase === "evaluating") parts.push("evaluating");
  else if (p.etaS !== undefined) parts.push(`ETA ${formatDuration(p.etaS)}`);
  return parts.join("  ");
}

/** A progress display for a sweep of `total` runs. */
export class ProgressDisplay {
  #active = new Map<string, Active>();
  #done = 0;
  #drawn = 0;
  #lastDraw = 0;
  readonly tty: boolean;
  readonly #encoder = new TextEncoder();
  readonly #start = performance.now();

  /**
   * @param total runs to do in this sweep
   * @param opts `tty` forces either mode (default: whether stdout is a terminal);
   *   `plainEveryS` spaces plain progress lines
   */
  constructor(readonly total: number, readonly opts: { tty?: boolean; plainEveryS?: number } = {}) {
    this.tty = opts.tty ?? Deno.stdout.isTerminal();
  }

  #write(s: string) {
    Deno.stdout.writeSync(this.#encoder.encode(s));
  }

  #clear() {
    if (this.tty && this.#drawn) this.#write(`\x1b[${this.#drawn}A\x1b[0J`);
    this.#drawn = 0;
  }

  #draw() {
    if (!this.tty) return;
    const cols = Deno.consoleSize?.().columns ?? 100;
    const lines: string[] = [];
    for (const a of this.#active.values()) {
      const f = a.p ? a.p.step / Math.max(1, a.p.totalSteps) : 0;
      lines.push(`${bar(f, 20)} ${a.label}  ${a.p ? describe(a.p) : "starting"}`);
    }
    const elapsed = (performance.now() - this.#start) / 1000;
    lines.push(
      `${bar(this.#done / Math.max(1, this.total), 20)} sweep ${this.#done}/${this.total} runs` +
        `  ${formatDuration(elapsed)}`,
    );
    this.#write(lines.map((l) => (l.length > cols - 1 ? l.slice(0, cols - 1) : l) + "\n").join(""));
    this.#drawn = lines.length;
    this.#lastDraw = performance.now();
  }

  /** Prints a line above the bars (or plainly). */
  log(message: string) {
    this.#clear();
    this.#write(message + "\n");
    this.#draw();
  }

  /** A run started. */
  start(id: string, label: string) {
    this.#active.set(id, { label, lastPlain: performance.now() });
    if (!this.tty) this.log(`[${this.#done}/${this.total}] ${label}: started`);
    else {
      this.#clear();
      this.#draw();
    }
  }

  /** A run's progress. */
  update(id: string, p: LoopProgress) {
    const a = this.#active.get(id);
    if (!a) return;
    a.p = p;
    const now = performance.now();
    if (this.tty) {
      if (now - this.#lastDraw > 100) {
        this.#clear();
        this.#draw();
      }
    } else if (now - a.lastPlain > (this.opts.plainEveryS ?? 10) * 1000) {
      a.lastPlain = now;
      this.log(`  ${a.label}: ${describe(p)}`);
    }
  }

  /** A run ended, with a one-line summary. */
  finish(id: string, summary: string) {
    const a = this.#active.get(id);
    this.#active.delete(id);
    this.#done++;
    this.log(`[${this.#done}/${this.total}] ${a?.label ?? id}: ${summary}`);
  }

  /** Removes the bars (at the end). */
  close() {
    this.#clear();
  }
}
