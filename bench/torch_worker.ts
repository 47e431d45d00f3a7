/**
 * The PyTorch side of the bench: `tools/torch_bench.py` as a long-lived
 * subprocess taking JSON-line commands, so that its steps can alternate with
 * fuselab's.
 *
 * @module
 */
import type { BenchShape } from "./model.ts";

/** A running `tools/torch_bench.py`. */
export class TorchWorker {
  #proc: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  /** What `setup` answered last (params, threads, torch version). */
  info: Record<string, unknown> = {};

  private constructor(proc: Deno.ChildProcess) {
    this.#proc = proc;
    this.#writer = proc.stdin.getWriter();
    this.#lines = proc.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
      [Symbol.asyncIterator]();
  }

  /**
   * Starts the worker with `python` (default `$FUSELAB_TORCH_PYTHON`, else
   * `/usr/bin/python3`). Returns the reason instead when PyTorch cannot start.
   */
  static async start(python?: string): Promise<TorchWorker | string> {
    const py = python ?? Deno.env.get("FUSELAB_TORCH_PYTHON") ?? "/usr/bin/python3";
    const script = new URL("../tools/torch_bench.py", import.meta.url).pathname;
    let proc: Deno.ChildProcess;
    try {
      proc = new Deno.Command(py, {
        args: [script],
        // PyTorch's OpenMP threads spin while idle by default; with its
        // OpenBLAS threads beside them that oversubscribes a small machine
        // (measured on 2 cores: 530–600 ms a step, 320–330 ms passive).
        // The bench compares against PyTorch at its best: passive, unless
        // the caller set a policy.
        env: { OMP_WAIT_POLICY: Deno.env.get("OMP_WAIT_POLICY") ?? "PASSIVE" },
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    } catch (e) {
      return `cannot run ${py}: ${(e as Error).message}`;
    }
    const w = new TorchWorker(proc);
    const r = await w.#ask({ cmd: "mem" }).catch((e) => ({ error: String(e) }));
    if ("error" in r) {
      await w.close();
      return `${py} ${script} did not start (is PyTorch installed for it?): ${r.error}`;
    }
    return w;
  }

  async #ask(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(req) + "\n"));
    const { value, done } = await this.#lines.next();
    if (done) throw new Error("torch worker exited");
    return JSON.parse(value);
  }

  /** Builds the model, optimizer and batch for `shape` on `threads` threads. */
  async setup(shape: BenchShape, threads: number, seed = 0): Promise<void> {
    const r = await this.#ask({ cmd: "setup", shape, threads, seed });
    if (r.error) throw new Error(`torch setup: ${r.error}`);
    this.info = r;
  }

  /** Runs `n` training steps; their wall-clock and CPU (all threads) times in ms. */
  async steps(n: number): Promise<{ ms: number[]; cpuMs: number[] }> {
    const r = await this.#ask({ cmd: "steps", n });
    if (r.error) throw new Error(`torch steps: ${r.error}`);
    return { ms: r.ms as number[], cpuMs: r.cpu_ms as number[] };
  }

  /** The worker's peak resident memory, MB. */
  async maxRssMb(): Promise<number> {
    return (await this.#ask({ cmd: "mem" })).max_rss_mb as number;
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    try {
      await this.#ask({ cmd: "quit" });
    } catch { /* already gone */ }
    try {
      await this.#writer.close();
    } catch { /* closed */ }
    await this.#proc.status;
  }
}

function lineSplitter(): TransformStream<string, string> {
  let buf = "";
  return new TransformStream({
    transform(chunk, ctl) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        ctl.enqueue(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    },
    flush(ctl) {
      if (buf) ctl.enqueue(buf);
    },
  });
}
