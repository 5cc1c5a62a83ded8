import { Packr, Unpackr } from "msgpackr";
import type { Entry, LogIndex, Random } from "../../src/raft/index.ts";
import { kvSnapshotProblem } from "../../src/kv/kv-snapshot.ts";
import { KvStore } from "../../src/kv/kv-store.ts";

const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;

function mix(hash: number, value: number): number {
  return Math.imul(hash ^ value, fnvPrime) >>> 0;
}

/** FNV-1a of `entry` (its index, term, type and data) on top of `hash`. */
function mixEntry(hash: number, entry: Entry): number {
  let h = mix(mix(hash, entry.index >>> 0), entry.term >>> 0);
  h = mix(h, entry.type === "noop" ? 0 : 1);
  for (const byte of entry.data) h = mix(h, byte);
  return h;
}

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: "number" });

/** An image as the simulator writes it: where it ends, the history's hash there, and the KV store's own snapshot chunks. */
interface Image {
  readonly lastApplied: LogIndex;
  readonly hash: number;
  readonly kvChunks: readonly Uint8Array[];
}

function decodeImage(chunks: Iterable<Uint8Array>): Image {
  const parts = [...chunks];
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  const decoded: unknown = unpackr.unpack(bytes);
  if (!Array.isArray(decoded) || decoded.length !== 3) throw new Error("the image is not [lastApplied, hash, kv chunks]");
  const [lastApplied, hash, kvChunks] = decoded as unknown[];
  if (!Number.isSafeInteger(lastApplied) || (lastApplied as number) < 1) throw new Error(`the image ends at ${String(lastApplied)}`);
  if (!Number.isInteger(hash)) throw new Error("the image has no history hash");
  if (!Array.isArray(kvChunks) || !kvChunks.every((chunk) => chunk instanceof Uint8Array)) throw new Error("the image's KV chunks are not binary");
  return { lastApplied: lastApplied as number, hash: hash as number, kvChunks };
}

/**
 * The simulated servers' state machine: the KV store a server runs, plus a
 * running hash of the history it applied (each entry's index, term, type
 * and data, in order). Two replicas with the same hash at one index applied
 * the same entries up to it (State Machine Safety, §5.4.3), however they got
 * there: by applying entries, or by restoring a snapshot (dissertation §5.1).
 *
 * Its snapshot image carries the hash, so a snapshot installed in place of a
 * log can be checked against what the replicas that applied the log had.
 */
export class SimStateMachine {
  readonly kv = new KvStore();
  /** The index of the last entry applied (or included in the snapshot restored). */
  lastApplied: LogIndex = 0;
  /** The hash of the history up to lastApplied. */
  hash = fnvOffset;

  apply(entry: Entry): void {
    this.kv.apply(entry);
    this.hash = mixEntry(this.hash, entry);
    this.lastApplied = entry.index;
  }

  /**
   * The image of the state as of lastApplied, cut into `chunks` chunks (at
   * most one per byte) at random points: chunks of odd sizes that split the
   * KV store's own chunks exercise the transfer, not the format.
   */
  snapshot(random: Random, chunks: number): Uint8Array[] {
    const image: Uint8Array = packr.pack([this.lastApplied, this.hash, [...this.kv.takeSnapshot().chunks()]]);
    const count = Math.min(image.length, chunks);
    const cuts = new Set<number>();
    while (cuts.size < count - 1) cuts.add(random.intBetween(1, image.length - 1));
    const bounds = [0, ...[...cuts].sort((a, b) => a - b), image.length];
    return bounds.slice(1).map((end, i) => image.slice(bounds[i], end));
  }

  /** Replaces the state with an image that `snapshot` made, on this replica or another; returns where it ends. */
  restore(chunks: Iterable<Uint8Array>): LogIndex {
    const image = decodeImage(chunks);
    this.kv.restore(image.lastApplied, image.kvChunks);
    this.lastApplied = image.lastApplied;
    this.hash = image.hash;
    return image.lastApplied;
  }
}

/**
 * What makes `chunks` no image of a SimStateMachine as of entry
 * `lastIncludedIndex`, or null (RaftNodeOptions.snapshotProblem, given the
 * state machine's chunks: the core checks its own, the configuration): the
 * simulator's own framing, then what the server checks of the KV store's
 * image (kvSnapshotProblem).
 */
export function simSnapshotProblem(chunks: readonly Uint8Array[], lastIncludedIndex: LogIndex): string | null {
  let image: Image;
  try {
    image = decodeImage(chunks);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (image.lastApplied !== lastIncludedIndex) return `the image is of the state at ${image.lastApplied}, not at the snapshot's ${lastIncludedIndex}`;
  return kvSnapshotProblem(image.kvChunks, lastIncludedIndex);
}

/** Where an image ends and the history hash it carries, without restoring it (what the checkers know of a stored snapshot). */
export function imageSummary(chunks: Iterable<Uint8Array>): { readonly lastApplied: LogIndex; readonly hash: number } {
  const { lastApplied, hash } = decodeImage(chunks);
  return { lastApplied, hash };
}
