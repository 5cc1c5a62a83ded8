/**
 * The chaos run's randomness: which key, which op, which server to hit and
 * for how long all come from `--seed`, so that a failing run's choices can
 * be made again (the timing of a real cluster cannot, so a replay is a
 * likely repeat rather than an exact one). Not for cryptography.
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = mix(seed >>> 0);
  }

  /** A float in [0, 1) (mulberry32). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both ends included. */
  intBetween(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("cannot pick from an empty array");
    return items[this.intBetween(0, items.length - 1)] as T;
  }

  /** A generator of its own for `stream` (a client, the nemesis), so that one's draws do not shift another's. */
  fork(stream: number): SeededRandom {
    return new SeededRandom(mix((this.#state ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0));
  }
}

/** Spreads nearby seeds (1, 2, 3 …) far apart (a splitmix32 finaliser). */
function mix(value: number): number {
  let z = (value + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
