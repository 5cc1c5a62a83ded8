import { assert } from "../base/assert.ts";
import type { LogIndex, SnapshotMeta } from "./types.ts";

/**
 * The leader's view of one follower (Figure 2 "Volatile state on leaders",
 * plus flow control in the manner of etcd's Progress).
 *
 * In `probe` the leader does not know where the follower's log matches: it
 * sends one AppendEntries and waits for the answer (or the next heartbeat).
 * In `replicate` the follower is known to match up to `matchIndex`: the leader
 * pipelines up to `inflightMax` AppendEntries, advancing `nextIndex`
 * optimistically. In `snapshot` the follower needs entries the leader no
 * longer holds (dissertation §5.1): the leader sends its snapshot one chunk
 * at a time, the next when the previous is acknowledged, and no entries
 * until the follower holds the snapshot.
 *
 * Invariant: matchIndex < nextIndex.
 */
export class Progress {
  matchIndex: LogIndex = 0;
  nextIndex: LogIndex;
  state: "probe" | "replicate" | "snapshot" = "probe";
  /** In snapshot: the snapshot being sent and the chunk the follower asked for last. */
  snapshot: { readonly meta: SnapshotMeta; nextChunk: number } | null = null;
  /** In probe: a probe is outstanding, send nothing more until it is answered or a heartbeat is due. */
  probeSent = false;
  /** In replicate: the last index of each AppendEntries not yet acknowledged, in send order. */
  private readonly inflight: LogIndex[] = [];
  /** The highest ReadIndex round this follower acknowledged in the leader's term (§8). */
  ackedReadRound = 0;
  /** Heartbeat ticks in a row with entries in flight and no progress: a lost message. */
  stalledHeartbeats = 0;
  /** The highest index any AppendEntries to this follower reached in the leader's term: no honest acknowledgement goes beyond it. */
  sentIndexMax = 0;
  /** The tick time of the last message from this follower in the leader's term; null before the first. */
  lastHeardMs: number | null = null;
  /** In replicate: where the pipeline last went back to fill a gap (refillFrom); 0 when it never did since it started. */
  gapRefilledFrom: LogIndex = 0;

  constructor(
    nextIndex: LogIndex,
    private readonly inflightMax: number,
  ) {
    this.nextIndex = nextIndex;
  }

  /** Whether an AppendEntries carrying new entries may be sent now. */
  canSend(): boolean {
    if (this.state === "snapshot") return false;
    return this.state === "probe" ? !this.probeSent : this.inflight.length < this.inflightMax;
  }

  hasInflight(): boolean {
    return this.inflight.length > 0;
  }

  /** Records that an AppendEntries reaching `lastIndex` (entries or a heartbeat) left for this follower. */
  noteSent(lastIndex: LogIndex): void {
    this.sentIndexMax = Math.max(this.sentIndexMax, lastIndex);
  }

  /** Records that entries up to `lastIndex` were sent. */
  sent(lastIndex: LogIndex): void {
    if (this.state === "probe") {
      this.probeSent = true;
      return;
    }
    assert(lastIndex >= this.nextIndex - 1, `sent up to ${lastIndex} behind next ${this.nextIndex}`);
    this.nextIndex = lastIndex + 1;
    this.inflight.push(lastIndex);
  }

  /** A successful response: returns whether matchIndex advanced. */
  acknowledge(matchIndex: LogIndex): boolean {
    this.probeSent = false;
    while (this.inflight.length > 0 && this.inflight[0]! <= matchIndex) this.inflight.shift();
    if (matchIndex <= this.matchIndex) return false;
    this.matchIndex = matchIndex;
    this.nextIndex = Math.max(this.nextIndex, matchIndex + 1);
    this.stalledHeartbeats = 0;
    if (this.state === "probe") this.state = "replicate";
    return true;
  }

  /** Starts sending snapshot `meta` from its first chunk; it reaches `meta.index`. */
  sendSnapshot(meta: SnapshotMeta): void {
    this.state = "snapshot";
    this.snapshot = { meta, nextChunk: 0 };
    this.probeSent = false;
    this.inflight.length = 0;
    this.stalledHeartbeats = 0;
    this.gapRefilledFrom = 0;
    this.noteSent(meta.index);
  }

  /** The follower holds the snapshot's entries: probe for the entries after it. */
  snapshotDone(): void {
    assert(this.snapshot !== null, "a snapshot done while none was being sent");
    const { index } = this.snapshot.meta;
    this.matchIndex = Math.max(this.matchIndex, index);
    this.probeFrom(this.matchIndex + 1);
  }

  /**
   * In replicate: the pipeline goes on from `nextIndex`, a gap in the
   * follower's log the entries in flight beyond it cannot fill.
   */
  refillFrom(nextIndex: LogIndex): void {
    assert(this.state === "replicate", `a gap refilled in state ${this.state}`);
    assert(nextIndex > this.matchIndex && nextIndex <= this.nextIndex, `refill from ${nextIndex} outside (${this.matchIndex}, ${this.nextIndex}]`);
    this.nextIndex = nextIndex;
    this.inflight.length = 0;
    this.gapRefilledFrom = nextIndex;
  }

  /** Back to probing from `nextIndex` after a rejection or a stall. */
  probeFrom(nextIndex: LogIndex): void {
    assert(nextIndex > this.matchIndex, `probe from ${nextIndex} at or below match ${this.matchIndex}`);
    this.state = "probe";
    this.snapshot = null;
    this.probeSent = false;
    this.nextIndex = nextIndex;
    this.inflight.length = 0;
    this.stalledHeartbeats = 0;
    this.gapRefilledFrom = 0;
  }

  checkInvariants(lastIndex: LogIndex): void {
    assert(this.matchIndex < this.nextIndex, `match ${this.matchIndex} not below next ${this.nextIndex}`);
    assert(this.matchIndex <= lastIndex, `match ${this.matchIndex} beyond leader's last ${lastIndex}`);
    assert(this.nextIndex <= lastIndex + 1, `next ${this.nextIndex} beyond leader's last + 1 (${lastIndex + 1})`);
    assert(this.matchIndex <= this.sentIndexMax, `match ${this.matchIndex} beyond what was sent (${this.sentIndexMax})`);
    assert(this.state === "replicate" || this.inflight.length === 0, `inflight appends in state ${this.state}`);
    assert((this.state === "snapshot") === (this.snapshot !== null), "a snapshot being sent exactly in state snapshot");
  }
}
