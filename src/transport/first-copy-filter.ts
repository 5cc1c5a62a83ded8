import type { PeerStamp } from "../protocol/peer-stamp.ts";
import type { NodeId } from "../raft/index.ts";

/**
 * Keeps the first copy of each peer message and drops the others. Every
 * message travels through every forwarder, and each forwarder passes a
 * sender's messages on in the order sent; so the first copy of a message
 * always arrives before the first copy of any later one, and keeping only
 * first copies hands Raft each sender's messages once and in order. A
 * message is a later copy when its sender's run is the one last recorded and
 * its sequence number is not above the highest recorded.
 *
 * Without this, two forwarders meant each message twice, and a follower
 * that got a later AppendEntries through the faster forwarder before an
 * earlier one through the slower rejected it, which sent the leader back to
 * probing (§5.3): a storm of retransmissions that stalled writes.
 *
 * Only stamps of messages that decoded and passed every check are recorded
 * (`record`), so the table holds one entry per known server, and a garbled
 * frame cannot make a server's real messages look like copies.
 */
export class FirstCopyFilter {
  readonly #highest = new Map<NodeId, { readonly runHigh: number; readonly runLow: number; seq: number }>();

  /** Whether a message with `stamp` is a copy of one already handed on (or an earlier one, late). */
  isLaterCopy(stamp: PeerStamp): boolean {
    const seen = this.#highest.get(stamp.from);
    return seen !== undefined && sameRun(seen, stamp) && stamp.seq <= seen.seq;
  }

  /** Notes a message handed on. A new run of the sender (it restarted) starts over. */
  record(stamp: PeerStamp): void {
    const seen = this.#highest.get(stamp.from);
    if (seen !== undefined && sameRun(seen, stamp)) seen.seq = Math.max(seen.seq, stamp.seq);
    else this.#highest.set(stamp.from, { runHigh: stamp.runHigh, runLow: stamp.runLow, seq: stamp.seq });
  }
}

const sameRun = (a: Pick<PeerStamp, "runHigh" | "runLow">, b: Pick<PeerStamp, "runHigh" | "runLow">): boolean => a.runHigh === b.runHigh && a.runLow === b.runLow;
