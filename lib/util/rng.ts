/**
 * Seeded pseudo-random numbers, identical on every backend.
 *
 * Weights are initialised from this generator in JavaScript (not by a
 * backend's random kernel), so a config and seed give the same initial model
 * on wasm, cpu, webgpu or tfjs-node.
 *
 * @module
 */

/** A splitmix32 generator: small, fast, and good enough for initialisation and shuffling. */
export class Rng {
  #state: number;

  /** @param seed any integer; equal seeds give equal streams. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A float uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A float uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer uniform in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** A standard normal sample (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A seed for a backend op such as `tf.dropout` (a positive int32). */
  seed(): number {
    return this.nextUint32() & 0x7fffffff;
  }

  /** An independent generator derived from this one (for a sub-stream such as data or dropout). */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** The generator's state, for checkpoints. */
  get state(): number {
    return this.#state;
  }

  /** Restores a state saved from {@link Rng.state}. */
  set state(value: number) {
    this.#state = value >>> 0;
  }
}
