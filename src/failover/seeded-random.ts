/**
 * The tools' few random choices (which follower receives a transfer, how
 * long to wait before a kill) drawn from a seed, so that a run can be
 * repeated with the same choices. xorshift32; not for cryptography.
 */
export function seededRandom(seed: number): () => number {
  // Any seed, 0 included, gives a non-zero state (xorshift stays at 0 forever from 0).
  let state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x6d2b79f5) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

/** One element of a non-empty array, chosen with `random`. */
export function pickOne<T>(items: readonly T[], random: () => number): T {
  if (items.length === 0) throw new RangeError("cannot pick from an empty array");
  return items[Math.floor(random() * items.length)] as T;
}
