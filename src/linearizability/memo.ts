/**
 * The configurations the search has reached: which operations are
 * linearized, the register's state, and `hidden` (see apply() in
 * model.ts). Two paths that reach the same configuration have the same
 * futures, so the second need not be explored (Lowe 2017, "Testing for
 * linearizability": this memoisation is what makes the Wing & Gong search
 * practical).
 *
 * A configuration is stored as a short run of 32-bit words and compared
 * word for word (a hash alone could merge two configurations and hide a
 * linearization). To keep it short, the completed operations linearized
 * are written as their dense prefix (all operations before the first one
 * not linearized, by call order) and the bits of a window after it: an
 * operation can only have been linearized while that first one was
 * pending, so its call comes no later than that one's return, which bounds
 * the window to the operations it overlaps. The set of unknown-outcome
 * operations linearized, a bitset as long as there are such operations,
 * changes far less often than the rest: each set is stored once, and a
 * configuration names it by number.
 *
 * The runs live in one growing array and are found through an
 * open-addressing table of their offsets: millions of configurations cost
 * tens of bytes each and no garbage, where a Set of strings would cost a
 * hundred and keep the collector busy.
 */
import type { KeyOperation } from "./prepare.ts";
import type { ValueId } from "./model.ts";

/** Words before the window: state, hidden + 1, prefix, unknown-outcome set. */
const HEADER_WORDS = 4;

export class Memo {
  private readonly knownCount: number;
  private readonly knownBits: Uint32Array;
  private readonly unknownBits: Uint32Array;
  /** The index of the last completed operation whose call comes no later than operation i's return. */
  private readonly windowEnd: Int32Array;
  /** The first completed operation (by call) not linearized. */
  private prefix = 0;
  private readonly key: Int32Array;
  private readonly configurations = new RunTable();
  private readonly unknownSets = new RunTable();
  /** The number of the current unknown-outcome set in `unknownSets`; -1 when it changed since last numbered. */
  private unknownSet = -1;

  constructor(known: readonly KeyOperation[], unknownCount: number) {
    this.knownCount = known.length;
    // One spare word, so that the window's last word is always there.
    this.knownBits = new Uint32Array((known.length >>> 5) + 1);
    this.unknownBits = new Uint32Array((unknownCount + 31) >>> 5);
    this.windowEnd = Int32Array.from(known, (operation) => lastCallAtOrBefore(known, operation.returnMs));
    this.key = new Int32Array(HEADER_WORDS + this.knownBits.length);
  }

  /** How many configurations have been recorded. */
  get size(): number {
    return this.configurations.size;
  }

  /** Marks operation `operation` (numbered as in the search) linearized. */
  mark(operation: number): void {
    if (operation >= this.knownCount) {
      const bit = operation - this.knownCount;
      this.unknownBits[bit >>> 5]! |= 1 << (bit & 31);
      this.unknownSet = -1;
      return;
    }
    this.knownBits[operation >>> 5]! |= 1 << (operation & 31);
    while (this.prefix < this.knownCount && this.isKnownMarked(this.prefix)) this.prefix++;
  }

  unmark(operation: number): void {
    if (operation >= this.knownCount) {
      const bit = operation - this.knownCount;
      this.unknownBits[bit >>> 5]! &= ~(1 << (bit & 31));
      this.unknownSet = -1;
      return;
    }
    this.knownBits[operation >>> 5]! &= ~(1 << (operation & 31));
    if (operation < this.prefix) this.prefix = operation;
  }

  /** Records the configuration of the marked operations with this state; false when it was recorded before. */
  visit(state: ValueId, hidden: ValueId): boolean {
    if (this.unknownSet < 0) {
      const words = new Int32Array(this.unknownBits.buffer);
      this.unknownSet = this.unknownSets.intern(words, words.length);
    }
    const key = this.key;
    const prefix = this.prefix;
    key[0] = state;
    key[1] = hidden + 1;
    key[2] = prefix;
    key[3] = this.unknownSet;
    let length = HEADER_WORDS;
    // The window's words: from the prefix's own (whose lower bits are all
    // set, so they add nothing ambiguous) to the last one it can reach.
    // The prefix fixes how many there are, so the run decodes one way only.
    if (prefix < this.knownCount) {
      const last = (this.windowEnd[prefix] as number) >>> 5;
      for (let word = prefix >>> 5; word <= last; word++) key[length++] = this.knownBits[word] as number;
    }
    const size = this.configurations.size;
    this.configurations.intern(key, length);
    return this.configurations.size > size;
  }

  private isKnownMarked(operation: number): boolean {
    return ((this.knownBits[operation >>> 5] as number) & (1 << (operation & 31))) !== 0;
  }
}

/** A set of runs of 32-bit words, each numbered by where it is stored. */
class RunTable {
  size = 0;
  /** The runs, back to back, each as its length and then its words. */
  private runs = new Int32Array(1 << 16);
  private runsEnd = 0;
  /** Per slot: the offset of a run in `runs`, plus one (0: empty). */
  private slots = new Int32Array(1 << 12);
  private hashes = new Int32Array(1 << 12);

  /** The number of the run key[0..length), added if it was not there. */
  intern(key: Int32Array, length: number): number {
    const hash = hashOf(key, length);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const offset = (this.slots[slot] as number) - 1;
      if (offset < 0) break;
      if (this.hashes[slot] === hash && this.equals(offset, key, length)) return offset;
    }
    const offset = this.append(key, length);
    this.store(offset, hash);
    this.size++;
    // Half full at most, so that probes stay short.
    if (this.size * 2 > this.slots.length) this.grow();
    return offset;
  }

  private equals(offset: number, key: Int32Array, length: number): boolean {
    if (this.runs[offset] !== length) return false;
    for (let index = 0; index < length; index++) if (this.runs[offset + 1 + index] !== key[index]) return false;
    return true;
  }

  private append(key: Int32Array, length: number): number {
    if (this.runsEnd + length + 1 > this.runs.length) {
      const runs = new Int32Array(Math.max(this.runs.length * 2, this.runsEnd + length + 1));
      runs.set(this.runs.subarray(0, this.runsEnd));
      this.runs = runs;
    }
    const offset = this.runsEnd;
    this.runs[offset] = length;
    this.runs.set(key.subarray(0, length), offset + 1);
    this.runsEnd += length + 1;
    return offset;
  }

  private store(offset: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = offset + 1;
    this.hashes[slot] = hash;
  }

  private grow(): void {
    const slots = this.slots;
    const hashes = this.hashes;
    this.slots = new Int32Array(slots.length * 2);
    this.hashes = new Int32Array(slots.length * 2);
    for (let slot = 0; slot < slots.length; slot++) {
      if (slots[slot] !== 0) this.store((slots[slot] as number) - 1, hashes[slot] as number);
    }
  }
}

/**
 * A 32-bit hash of key[0..length): multiply and rotate per word, then mix,
 * so that the low bits that pick a slot depend on every word. Its quality
 * only affects speed: runs are compared in full.
 */
function hashOf(key: Int32Array, length: number): number {
  let hash = length;
  for (let index = 0; index < length; index++) {
    hash = Math.imul(hash ^ (key[index] as number), 0x9e3779b1);
    hash = (hash << 15) | (hash >>> 17);
  }
  hash = Math.imul(hash ^ (hash >>> 16), 0x2c1b3c6d);
  return hash ^ (hash >>> 15);
}

/** The index of the last of `known` (sorted by call) whose call is at or before `ms`. */
function lastCallAtOrBefore(known: readonly KeyOperation[], ms: number): number {
  let low = 0;
  let high = known.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((known[middle] as KeyOperation).callMs <= ms) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}
