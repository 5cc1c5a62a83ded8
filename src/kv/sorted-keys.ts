/**
 * The store's keys in order, for `list` (docs/protocol.md §5: pairs come in key
 * order). Key order is the byte order of the keys' UTF-8, which is the
 * order of their code points, not JavaScript's UTF-16 `<`.
 *
 * The keys live in a list of sorted chunks of at most `chunkKeysMax` keys
 * (the idea of Python's sortedcontainers): adding or removing a key costs
 * O(log n + chunkKeysMax), and listing k keys from a prefix O(log n + k).
 */

/** How many keys one chunk holds before it splits in two. */
export const chunkKeysMax = 512;

/**
 * Compares two strings in the byte order of their UTF-8 encodings.
 * UTF-16 puts surrogates (U+D800–U+DFFF, which encode code points above
 * U+FFFF) below U+E000–U+FFFF, while UTF-8 puts those code points after
 * every BMP character, so surrogates are ranked above the rest.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let at = 0; at < length; at++) {
    const unitA = a.charCodeAt(at);
    const unitB = b.charCodeAt(at);
    if (unitA !== unitB) return codeUnitRank(unitA) - codeUnitRank(unitB);
  }
  return a.length - b.length;
}

const codeUnitRank = (unit: number): number => (unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

/** A set of strings kept in compareKeys order. */
export class SortedKeys {
  /** Sorted, non-empty chunks; every key of chunk i sorts before every key of chunk i + 1. */
  readonly #chunks: string[][] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds `key`; returns false when it was already there. */
  add(key: string): boolean {
    if (this.#chunks.length === 0) {
      this.#chunks.push([key]);
      this.#size = 1;
      return true;
    }
    const chunkIndex = Math.min(this.#chunkFor(key), this.#chunks.length - 1);
    const chunk = this.#chunks[chunkIndex] as string[];
    const at = lowerBound(chunk, key);
    if (at < chunk.length && chunk[at] === key) return false;
    chunk.splice(at, 0, key);
    this.#size++;
    if (chunk.length > chunkKeysMax) {
      this.#chunks.splice(chunkIndex + 1, 0, chunk.splice(chunk.length >> 1));
    }
    return true;
  }

  clear(): void {
    this.#chunks.length = 0;
    this.#size = 0;
  }

  /** Removes `key`; returns false when it was not there. */
  delete(key: string): boolean {
    const chunkIndex = this.#chunkFor(key);
    const chunk = this.#chunks[chunkIndex];
    if (chunk === undefined) return false;
    const at = lowerBound(chunk, key);
    if (chunk[at] !== key) return false;
    chunk.splice(at, 1);
    this.#size--;
    if (chunk.length === 0) this.#chunks.splice(chunkIndex, 1);
    return true;
  }

  /** The keys that sort at or after `lower`, in order. */
  *from(lower: string): Generator<string> {
    let chunkIndex = this.#chunkFor(lower);
    let chunk = this.#chunks[chunkIndex];
    if (chunk === undefined) return;
    let at = lowerBound(chunk, lower);
    while (chunk !== undefined) {
      for (; at < chunk.length; at++) yield chunk[at] as string;
      chunk = this.#chunks[++chunkIndex];
      at = 0;
    }
  }

  /** The first chunk whose last key sorts at or after `key` (chunks.length when none does). */
  #chunkFor(key: string): number {
    let low = 0;
    let high = this.#chunks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const chunk = this.#chunks[middle] as string[];
      if (compareKeys(chunk[chunk.length - 1] as string, key) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** The first position in sorted `keys` whose key sorts at or after `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(keys[middle] as string, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
