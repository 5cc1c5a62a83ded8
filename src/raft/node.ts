import { assert } from "../base/assert.ts";
import { type RaftConfig, validateRaftConfig } from "./config.ts";
import { nullLogger, type Logger } from "../base/logger.ts";
import type { Random } from "./random.ts";
import { RaftLog } from "./log.ts";
import type { LogStorage } from "./log-storage.ts";
import type { SnapshotProblem } from "./snapshot-receiver.ts";
import type { Membership, MembershipChange } from "./membership.ts";
import { Raft } from "./raft.ts";
import type { Ready } from "./ready.ts";
import {
  isHeartbeat,
  type Entry,
  type FollowerProgress,
  type HardState,
  type LogIndex,
  type LogPosition,
  type Message,
  type NodeId,
  type NodeStatus,
  type ProposeResult,
  type SnapshotMeta,
  type SoftState,
  type Term,
  type TransferResult,
} from "./types.ts";

export interface RaftNodeOptions {
  readonly config: RaftConfig;
  /** The durable state found at start-up (emptyHardState and [] on a new server). */
  readonly hardState: HardState;
  /** The end of the durable log: its last entries, up to about config.logTailBytesMax of them (all of it when short). */
  readonly entries: readonly Entry[];
  /**
   * Reads the durable log before `entries`, and the entries that later leave
   * memory (docs/architecture.md §2). Without it the whole log stays in
   * memory and `entries` must be all of it: for tests of the layers above
   * the core, whose logs stay short.
   */
  readonly storage?: LogStorage;
  /** Where the stored log starts: the position before its first entry (logStart when never compacted). */
  readonly logStart?: LogPosition;
  /**
   * The stored snapshot (dissertation ch. 5), from which the runtime restored
   * the state machine before building the node: applying resumes after it.
   */
  readonly snapshot?: SnapshotMeta;
  /**
   * What makes a snapshot image received from a leader unusable for the
   * state machine, or null: checked before the follower gives up its log
   * for it, since anything on the bus may be forged. Accepts any by default.
   */
  readonly snapshotProblem?: SnapshotProblem;
  /**
   * The configuration in force at the log's start (dissertation ch. 4): the
   * stored snapshot's (snapshotMembership of its chunks), else the seed. By
   * default the seed: config.peers, all voters. A server joining a running
   * cluster starts with no voter at all and learns its configuration from
   * the leader.
   */
  readonly membership?: Membership;
  readonly nowMs: number;
  readonly random: Random;
  readonly logger?: Logger;
}

const sameTermAndVote = (a: HardState, b: HardState): boolean => a.currentTerm === b.currentTerm && a.votedFor === b.votedFor;

const sameHardState = (a: HardState, b: HardState): boolean =>
  a.currentTerm === b.currentTerm && a.votedFor === b.votedFor && a.commitIndex === b.commitIndex;

/**
 * The public face of the Raft core, in the manner of etcd-io/raft's Node:
 * inputs go in through tick/step/propose/readIndex; the work they cause comes
 * out as a Ready, which the runtime handles (see Ready for the order) and then
 * hands back through advance(). One Ready is outstanding at a time; inputs may
 * keep arriving while it is being handled.
 */
export class RaftNode {
  private readonly raft: Raft;
  private readonly entriesPerReadyMax: number;
  private persistedHardState: HardState;
  private lastSoftState: SoftState;
  private readyOutstanding = false;

  constructor(options: RaftNodeOptions) {
    validateRaftConfig(options.config);
    this.entriesPerReadyMax = options.config.entriesPerReadyMax;
    const { config, hardState } = options;
    const log = new RaftLog(options.entries, hardState.commitIndex, options.storage ?? null, config.logTailBytesMax, options.logStart, options.snapshot);
    const snapshotProblem = options.snapshotProblem ?? ((): null => null);
    const membership = options.membership ?? { voters: config.peers, learners: [], context: "" };
    this.raft = new Raft(config, hardState, log, options.nowMs, options.random, options.logger ?? nullLogger, snapshotProblem, membership);
    this.persistedHardState = this.raft.hardState();
    this.lastSoftState = this.softState();
  }

  get id(): number {
    return this.raft.id;
  }

  tick(nowMs: number): void {
    this.raft.tick(nowMs);
  }

  /** Feeds a message received from a peer; the caller has validated its shape. */
  step(message: Message): void {
    this.raft.step(message);
  }

  /** Appends a command to the leader's log; replication goes out with the next Ready. */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(data);
  }

  /** Asks for a linearizable read; its ReadState comes in a later Ready. False when not leader. */
  readIndex(context: number): boolean {
    return this.raft.readIndex(context);
  }

  /**
   * The controller's TIMEOUT: campaign at once, without pre-votes, with
   * RequestVotes marked forced so that leader stickiness lets them through
   * (dissertation §4.2.3). False, and nothing happens, when already leader.
   */
  campaign(): boolean {
    return this.raft.campaignNow();
  }

  /**
   * The controller's CONVERT_FOLLOWER: a leader becomes a follower in the same
   * term and stands for no election (no pre-vote, no campaign) for at least
   * one full randomized election timeout. False when not leader.
   */
  stepDown(): boolean {
    return this.raft.stepDown();
  }

  /**
   * Dissertation §3.10: the leader takes no new proposals (propose() answers
   * "transferring"), brings `target` up to date and then sends it TimeoutNow;
   * `target` campaigns at once. Abandoned, and proposals taken again, if not
   * done within an election timeout. Refused when not leader, when `target`
   * is unknown or this server, or while another transfer is under way.
   */
  transferLeadership(target: NodeId): TransferResult {
    return this.raft.transferLeadership(target);
  }

  /**
   * Heartbeats (ReadIndex rounds included) that may leave now, while the
   * runtime still saves the previous Ready: they carry no entry and this
   * node's term and vote are already on disk, so the persistence rule does
   * not hold them back (docs/architecture.md §4). They are taken out of the
   * next Ready.
   */
  takeHeartbeats(): Message[] {
    const raft = this.raft;
    if (!sameTermAndVote(raft.hardState(), this.persistedHardState)) return [];
    raft.flushReadRound();
    const heartbeats = raft.outbox.filter(isHeartbeat);
    if (heartbeats.length > 0) raft.outbox = raft.outbox.filter((message) => !isHeartbeat(message));
    return heartbeats;
  }

  hasReady(): boolean {
    const raft = this.raft;
    return (
      !this.readyOutstanding &&
      (raft.outbox.length > 0 ||
        raft.hasPendingFlush() ||
        raft.log.hasUnstable() ||
        raft.log.hasNextCommitted() ||
        raft.readStates.length > 0 ||
        raft.droppedReads.length > 0 ||
        raft.installed !== null ||
        !sameHardState(raft.hardState(), this.persistedHardState) ||
        !this.sameSoftState(this.softState()))
    );
  }

  ready(): Ready {
    assert(!this.readyOutstanding, "ready() called again before advance()");
    const raft = this.raft;
    raft.flush();
    const hardState = raft.hardState();
    const softState = this.softState();
    const ready: Ready = {
      snapshot: raft.installed,
      hardState: sameHardState(hardState, this.persistedHardState) ? null : hardState,
      entries: raft.log.unstableEntries(),
      messages: raft.outbox,
      committedEntries: raft.log.nextCommitted(this.entriesPerReadyMax),
      readStates: raft.readStates,
      softState: this.sameSoftState(softState) ? null : softState,
      droppedReads: raft.droppedReads,
    };
    raft.outbox = [];
    raft.installed = null;
    raft.readStates = [];
    raft.droppedReads = [];
    this.lastSoftState = softState;
    this.readyOutstanding = true;
    return ready;
  }

  /** Reports that a Ready was handled: its writes are durable and its committed entries applied. */
  advance(ready: Ready): void {
    assert(this.readyOutstanding, "advance() without an outstanding ready()");
    this.readyOutstanding = false;
    if (ready.hardState !== null) this.persistedHardState = ready.hardState;
    const lastWritten = ready.entries.at(-1);
    if (lastWritten !== undefined) this.raft.log.stableTo(lastWritten);
    const lastCommitted = ready.committedEntries.at(-1);
    if (lastCommitted !== undefined) this.raft.log.appliedTo(lastCommitted.index);
    this.raft.onStable();
  }

  /**
   * Dissertation §5.1: the runtime stored a snapshot of the state machine up
   * to `snapshot` (an applied, durable entry); the log drops its entries up
   * to `through`, a margin below it kept for followers only a little behind,
   * and storage drops them next (nothing reads them from here on). A
   * follower that needs what is gone is sent the snapshot.
   */
  compact(snapshot: SnapshotMeta, through: LogIndex): void {
    this.raft.compact(snapshot, through);
  }

  /** The configuration in force: the latest in the log, committed or not (dissertation §4.1). */
  membership(): Membership {
    return this.raft.membership();
  }

  /** The configuration in force at entry `index` (at or after the log's start): what a snapshot up to it keeps. */
  membershipAt(index: LogIndex): Membership {
    return this.raft.membershipAt(index);
  }

  /**
   * A single-server configuration change (dissertation §4.1) as an entry of
   * the leader's log. Refused with a reason while another change is not
   * committed, before the leader committed an entry of its term, or when the
   * change makes no sense (adding a member, removing a stranger or the last
   * voter). A learner is promoted by the leader itself once caught up.
   */
  proposeMembership(change: MembershipChange): ReturnType<Raft["proposeMembership"]> {
    return this.raft.proposeMembership(change);
  }

  /** The term of entry `index`, or undefined when the log does not hold it (compacted, or past its end). */
  logTerm(index: LogIndex): Term | undefined {
    return this.raft.log.term(index);
  }

  /** Where the latest stored snapshot ends (index 0, term 0 when there is none). */
  latestSnapshot(): SnapshotMeta {
    return this.raft.log.snapshot;
  }

  /** The last entry known to be on this server's disk, matching its log. */
  stableIndex(): LogIndex {
    return this.raft.log.stableIndex;
  }

  status(): NodeStatus {
    const raft = this.raft;
    return {
      id: raft.id,
      role: raft.role(),
      term: raft.currentTerm,
      leaderId: raft.leaderId,
      votedFor: raft.votedFor,
      commitIndex: raft.log.commitIndex,
      lastApplied: raft.log.lastApplied,
      lastLogIndex: raft.log.lastIndex(),
      lastLogTerm: raft.log.lastTerm(),
      logStartIndex: raft.log.start.index,
      snapshotIndex: raft.log.snapshot.index,
      transferTarget: raft.transferTarget(),
    };
  }

  /**
   * A leader's view of each follower (what it is known to hold, when it was
   * last heard from), so that the server can log a follower that went
   * silent, came back and caught up. Empty when not leading.
   */
  followers(): readonly FollowerProgress[] {
    return this.raft.followers();
  }

  /**
   * The leader's commit index as this server last heard it announced in an
   * AppendEntries of the current term (its own when it leads; 0 when no
   * leader is known): a follower that has applied up to it has caught up.
   */
  leaderCommitIndex(): LogIndex {
    return this.raft.leaderCommitIndex();
  }

  /** One entry of the log, read back from storage below the in-memory tail (for the simulator's checkers). */
  logEntry(index: LogIndex): Entry | undefined {
    return this.raft.log.entry(index);
  }

  /** The whole log, read back from storage below the in-memory tail (for tests and the simulator's checkers). */
  logEntries(): readonly Entry[] {
    return this.raft.log.all();
  }

  checkInvariants(): void {
    this.raft.checkInvariants();
    assert(this.persistedHardState.currentTerm <= this.raft.currentTerm, "persisted term ahead of current term");
  }

  private softState(): SoftState {
    return { role: this.raft.role(), leaderId: this.raft.leaderId };
  }

  private sameSoftState(softState: SoftState): boolean {
    return softState.role === this.lastSoftState.role && softState.leaderId === this.lastSoftState.leaderId;
  }
}
