/**
 * Run ownership: a run is trained by exactly one process at a time. The
 * process training a run holds an exclusive OS file lock (`flock`) on
 * `runs/<id>/run.lock`; the operating system releases it when the process
 * ends, however it ends (SIGKILL included), so a lock is never stale.
 *
 * Whether a run is being trained is asked of the lock itself, not of a pid
 * in status.json: this works under `deno task exp`'s own permissions, on
 * every host sharing the results folder where its file system supports locks
 * (local disks, NFSv4), and for Slurm tasks as for local sweeps.
 *
 * @module
 */
import { join } from "node:path";

/** The lock file of a run folder. */
export const LOCK_FILE = "run.lock";

/** A held run lock; {@link RunLock.release} (or the process's end) frees it. */
export class RunLock {
  #file: Deno.FsFile | undefined;

  private constructor(readonly dir: string, file: Deno.FsFile | undefined) {
    this.#file = file;
  }

  /**
   * Takes the run's lock without waiting, creating the folder and the lock
   * file as needed; `undefined` when another process holds it. A short
   * `retryMs` rides out another sweep's brief look at the run.
   */
  static async tryAcquire(dir: string, retryMs = 300): Promise<RunLock | undefined> {
    await Deno.mkdir(dir, { recursive: true });
    const path = join(dir, LOCK_FILE);
    const deadline = performance.now() + retryMs;
    for (;;) {
      const file = await Deno.open(path, { read: true, write: true, create: true });
      let locked: boolean;
      try {
        locked = await file.tryLock(true);
      } catch (e) {
        file.close();
        // A file system without locks: own the run unguarded rather than refuse to train.
        if (isUnsupported(e)) return new RunLock(dir, undefined);
        throw e;
      }
      if (locked) return new RunLock(dir, file);
      file.close();
      if (performance.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Frees the lock (idempotent). */
  release(): void {
    const f = this.#file;
    this.#file = undefined;
    if (!f) return;
    try {
      f.unlockSync();
    } catch {
      // closing releases it too
    }
    f.close();
  }
}

function isUnsupported(e: unknown): boolean {
  return e instanceof Deno.errors.NotSupported ||
    /ENOLCK|not supported|Unsupported/i.test(String((e as Error)?.message ?? e));
}

/**
 * Whether a process (this one included) holds the run's lock, i.e. is
 * training the run now. A missing folder or lock file means no.
 */
export function isLocked(dir: string): boolean {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(join(dir, LOCK_FILE), { read: true });
  } catch {
    return false;
  }
  try {
    // A shared lock is refused while an exclusive one is held.
    if (!file.tryLockSync(false)) return true;
    file.unlockSync();
    return false;
  } catch {
    return false;
  } finally {
    file.close();
  }
}
