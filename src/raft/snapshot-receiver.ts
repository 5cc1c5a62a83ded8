import type { Membership } from "./membership.ts";
import { snapshotMembership, stateChunksOf } from "./snapshot-image.ts";
import { sameMeta, type InstallSnapshot, type LogIndex, type NodeId, type ReceivedSnapshot, type SnapshotMeta } from "./types.ts";

/** What a follower makes of one InstallSnapshot chunk. */
export type ChunkOutcome =
  /** Kept, or not the chunk expected: ask for `nextChunk` of the message's snapshot. */
  | { readonly kind: "next"; readonly nextChunk: number }
  /** The last chunk arrived and the image is one the core and the state machine accept. */
  | { readonly kind: "complete"; readonly snapshot: ReceivedSnapshot; readonly membership: Membership }
  /** Not from an honest leader: the transfer is dropped, unanswered. */
  | { readonly kind: "refused"; readonly reason: string };

/** What makes a snapshot image unusable for the state machine above, or null (RaftNodeOptions.snapshotProblem). */
export type SnapshotProblem = (chunks: readonly Uint8Array[], lastIncludedIndex: LogIndex) => string | null;


/**
 * A follower's half of InstallSnapshot (dissertation §5.1, Figure 5.3): the
 * chunks of one snapshot from one leader, gathered in order. A chunk out of
 * order is not kept; the answer names the chunk wanted, so a transfer that
 * lost a message, or that the leader restarted, resumes where it stopped.
 * The image is checked before it is handed on: the follower discards its
 * log for it, so a forged image must be refused first.
 */
export class SnapshotReceiver {
  private receiving: { readonly from: NodeId; readonly meta: SnapshotMeta; readonly chunks: Uint8Array[]; bytes: number } | null = null;

  constructor(
    /** No honest snapshot is larger: a transfer past it is refused, so that a forger cannot fill memory. */
    private readonly bytesMax: number,
    private readonly problem: SnapshotProblem,
  ) {}

  accept(message: InstallSnapshot): ChunkOutcome {
    let receiving = this.receiving;
    if (message.chunk === 0 && (receiving === null || receiving.from !== message.from || !sameMeta(receiving.meta, message.snapshot))) {
      receiving = this.receiving = { from: message.from, meta: message.snapshot, chunks: [], bytes: 0 };
    }
    if (receiving === null || receiving.from !== message.from || !sameMeta(receiving.meta, message.snapshot)) {
      return { kind: "next", nextChunk: 0 };
    }
    if (message.chunk !== receiving.chunks.length) return { kind: "next", nextChunk: receiving.chunks.length };
    receiving.bytes += message.data.length;
    if (receiving.bytes > this.bytesMax) {
      this.receiving = null;
      return { kind: "refused", reason: `the snapshot at ${message.snapshot.index} passes ${this.bytesMax} bytes` };
    }
    receiving.chunks.push(message.data);
    if (!message.last) return { kind: "next", nextChunk: receiving.chunks.length };
    this.receiving = null;
    const membership = snapshotMembership(receiving.chunks);
    const problem = typeof membership === "string" ? membership : this.problem([...stateChunksOf(receiving.chunks)], receiving.meta.index);
    if (problem !== null || typeof membership === "string") return { kind: "refused", reason: `the snapshot at ${message.snapshot.index} is not a valid image: ${problem}` };
    return { kind: "complete", snapshot: { meta: receiving.meta, chunks: receiving.chunks }, membership };
  }

  /** Drops a transfer in progress: the log no longer needs it. */
  reset(): void {
    this.receiving = null;
  }
}
