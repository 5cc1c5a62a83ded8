import {
  appliesBeforeSave,
  keepsTermAndVote,
  splitAtSave,
  type Entry,
  type HardState,
  type LogIndex,
  type Membership,
  type MembershipChange,
  type Message,
  type NodeId,
  type NodeStatus,
  type RaftNode,
  type Ready,
  type Role,
  type SnapshotMeta,
  snapshotImage,
  stateChunksOf,
} from "../raft/index.ts";
import type { StateMachine } from "../state-machine/state-machine.ts";
import type { RaftStorage, StoredSnapshot, WriteMode } from "../storage/storage.ts";
import { ApplyWaiters } from "./apply-waiters.ts";
import { LeaderWatch, type LeaderWatchTiming } from "./leader-watch.ts";
import { PeerContacts } from "./peer-contacts.ts";
import { PendingRequests, type Waiter } from "./pending-requests.ts";
import { snapshotDue, snapshotPhase, snapshotPolicyDefaults, type SnapshotPolicy } from "./snapshot-policy.ts";

/** Where Raft messages go: the peer transport. */
export interface PeerSender {
  send(messages: readonly Message[]): void;
}

export interface RaftServerLimits {
  /** A proposal or linearizable read not settled in this time is settled as timed out. */
  readonly requestTimeoutMs: number;
  /** Proposals and reads in progress; past it, new ones are refused as overloaded. */
  readonly pendingRequestsMax: number;
}

export const raftServerLimitsDefaults: RaftServerLimits = { requestTimeoutMs: 3000, pendingRequestsMax: 20_000 };

/** Why the runtime will not take leader work (a proposal or a linearizable read) on. */
export type Refusal =
  | { readonly kind: "not-leader" }
  | { readonly kind: "overloaded"; readonly pending: number }
  | { readonly kind: "shutting-down" };

/**
 * A proposal's entry is in the log and may still commit (under this leader
 * or the next), so whether it took effect is unknown: the request timed
 * out, this server stopped leading while it waited, or it is stopping.
 */
export type UnknownOutcome = { readonly kind: "unknown"; readonly reason: "timeout" | "leadership-lost" | "shutting-down" };

/** How a proposal ended. */
export type ProposalOutcome<Result> =
  | { readonly kind: "applied"; readonly result: Result }
  | UnknownOutcome
  /** Never taken on, or never became a command in the log: another leader's entry took its index. */
  | Refusal;

/** How a membership change (dissertation ch. 4) ended. */
export type MembershipOutcome =
  /** Its configuration entry, at `index`, is committed and applied. */
  | { readonly kind: "done"; readonly index: LogIndex }
  /** The core would not make it: another change is not committed yet, a transfer is under way, or the change makes no sense. */
  | { readonly kind: "refused"; readonly problem: string }
  | UnknownOutcome
  /** Never taken on, or never became its entry in the log: another leader's entry took its index. */
  | Refusal;

/** How a leadership transfer (dissertation §3.10) ended. */
export type TransferOutcome =
  | { readonly kind: "done"; readonly leaderId: NodeId }
  /** The core would not start it: the reason says why (the target is this server, unknown, or a transfer is under way). */
  | { readonly kind: "refused"; readonly reason: string }
  /** The target did not take over in time (down, cut off or far behind); this server leads on. */
  | { readonly kind: "aborted" }
  | Refusal;

/** How a linearizable read ended. */
export type ReadOutcome<Answer> =
  | { readonly kind: "answered"; readonly answer: Answer }
  | { readonly kind: "timeout" }
  /** Never taken on, or leadership could not be confirmed for it ("not-leader"). */
  | Refusal;

export interface RaftServerOptions<Query, Answer, Result> {
  readonly node: RaftNode;
  readonly storage: RaftStorage;
  readonly stateMachine: StateMachine<Query, Answer, Result>;
  readonly peers: PeerSender;
  readonly limits?: RaftServerLimits;
  /** When to snapshot the state machine and compact the log (snapshotPolicyDefaults when absent). */
  readonly snapshots?: SnapshotPolicy;
  /** Hold requests that arrive while the leadership is in doubt (see LeaderWatch); absent: never hold. */
  readonly leaderWatch?: LeaderWatchTiming;
  /** The monotonic clock, in milliseconds. */
  readonly nowMs: () => number;
  /** Called when storage fails: the server cannot go on without durability. */
  readonly onFatal: (error: unknown) => void;
  /**
   * Called with the configuration in force (dissertation §4.1: the latest in
   * the log) at start-up, in catchUp, and whenever it changes: who the peers
   * are. Called before any message to a new member leaves.
   */
  readonly onMembershipChange?: (membership: Membership) => void;
}

/**
 * The runtime around the Raft core: it feeds the core peer messages, ticks
 * and proposals, and carries out each Ready in the order that keeps the
 * persistence rule (docs/architecture.md §4: save, then send what depends on
 * it; a leader's AppendEntries and the answers for already committed entries
 * depend on nothing the save holds unless it changes the term or vote).
 * Inputs arriving in one event-loop turn are handled by one Ready: many
 * proposals become one disk write and one AppendEntries per follower.
 *
 * It knows Raft, storage, the peers and "a state machine"; what a command,
 * a query or a result means is the state machine's and its service's
 * business (docs/architecture.md §5). Every proposal and read is settled
 * exactly once, synchronously inside the Ready loop or a tick.
 */
export class RaftServer<Query, Answer, Result> {
  private readonly options: RaftServerOptions<Query, Answer, Result>;
  private readonly limits: RaftServerLimits;
  private readonly pending: PendingRequests<ProposalOutcome<Result>, Query, ReadOutcome<Answer>>;
  private nextReadContext = 1;
  private readyScheduled = false;
  private readyLoop: Promise<void> | null = null;
  private isStopping = false;
  /** A save failed: the server takes nothing more on. */
  private failed = false;
  private wasLeader = false;
  /** The term of the last Ready handled: proposals from before it belong to an earlier leadership. */
  private leadershipTerm = 0;
  /** The transfer under way, answered when the target leads or the core gives up. */
  private transferring: ({ readonly target: NodeId } & Waiter<TransferOutcome>) | null = null;
  /** Proposals that arrived during the transfer (dissertation §3.10: the leader takes none): proposed again, or redirected, when it ends. */
  private heldDuringTransfer: { readonly data: Uint8Array; readonly settle: (outcome: ProposalOutcome<Result>) => void }[] = [];
  /** Membership changes waiting for their configuration entry to apply: proposals of the core's own entries. */
  private readonly changes: PendingRequests<MembershipOutcome, never, never>;
  /** Proposals and changes whose index a proposal of a later leadership took over, to be answered in the Ready loop. */
  private displacedWrites: Waiter<UnknownOutcome>[] = [];
  /** The configuration onMembershipChange was last called with. */
  private membershipTold: Membership | null = null;
  /** The hard state of the last save (at start-up, what was loaded); its commit index may be ahead of the disk's (unsavedCommit). */
  private savedHardState: HardState;
  /** A hard state whose only change is the commit index, not yet written: it rides with the next save, or stop(). */
  private unsavedCommit: HardState | null = null;
  private readonly leaderWatch: LeaderWatch | null;
  /** Requests waiting for entries to be applied (awaitApplied). */
  private readonly applyWaiters = new ApplyWaiters();
  /** When each peer was last heard from: whether the leader is alive, and who answers. */
  readonly contacts = new PeerContacts();
  private readonly snapshotPolicy: SnapshotPolicy;
  /** This server's offset of its snapshot points (snapshotPhase). */
  private readonly snapshotPhase: number;
  /** The bytes of the commands applied since the last snapshot (SnapshotPolicy.logBytes). */
  private appliedBytesSinceSnapshot = 0;
  /** The snapshot being stored, and the ones asked for (snapshotNow) while none may start. */
  private snapshotting: Promise<void> | null = null;
  private snapshotWaiters: ((meta: SnapshotMeta | null) => void)[] = [];

  constructor(options: RaftServerOptions<Query, Answer, Result>) {
    this.options = options;
    this.limits = options.limits ?? raftServerLimitsDefaults;
    this.pending = new PendingRequests(this.limits.pendingRequestsMax);
    this.changes = new PendingRequests(this.limits.pendingRequestsMax);
    this.snapshotPolicy = options.snapshots ?? snapshotPolicyDefaults;
    this.snapshotPhase = snapshotPhase(this.snapshotPolicy, options.node.id);
    const { term, votedFor, commitIndex, role } = options.node.status();
    this.savedHardState = { currentTerm: term, votedFor, commitIndex };
    this.leaderWatch = options.leaderWatch === undefined ? null : new LeaderWatch(options.leaderWatch, this.limits.pendingRequestsMax, this.contacts);
    options.storage.setWriteMode(writeModeFor(role));
  }

  /** Whether stop() was called or a save failed: nothing new is taken on. */
  get stopping(): boolean {
    return this.isStopping || this.failed;
  }

  /** The configuration in force: the latest in the log, committed or not (dissertation §4.1). */
  membership(): Membership {
    return this.options.node.membership();
  }

  /** The core's status, with the state machine's own applied index. */
  status(): NodeStatus {
    return { ...this.options.node.status(), lastApplied: this.options.stateMachine.lastApplied };
  }

  /**
   * Applies what the log already holds as committed (a restart's replay) and
   * whatever else the core has ready; resolves when nothing is left. Called
   * once, before ticks, peers and clients come in.
   */
  async catchUp(): Promise<void> {
    this.noteMembership();
    this.readyLoop = this.runReadyLoop().finally(() => {
      this.readyLoop = null;
    });
    await this.readyLoop;
  }

  /** Timer input: elections, heartbeats and request deadlines. */
  tick(): void {
    const nowMs = this.options.nowMs();
    this.options.node.tick(nowMs);
    this.sendHeartbeatsDuringSave();
    const expired = this.pending.takeExpired(nowMs);
    for (const write of [...expired.writes, ...this.changes.takeExpired(nowMs).writes]) write.settle({ kind: "unknown", reason: "timeout" });
    for (const read of expired.reads) read.settle({ kind: "timeout" });
    if (this.transferring !== null && this.transferring.deadlineMs <= nowMs) this.settleTransfer({ kind: "aborted" });
    this.applyWaiters.expire(nowMs);
    this.releaseHeld();
    this.scheduleReady();
  }

  /** A validated message from a peer. */
  receivePeerMessage(message: Message): void {
    this.options.node.step(message);
    // A configuration entry, or a snapshot's, may name new peers: the transport learns them before this server answers.
    this.noteMembership();
    this.contacts.heard(message.from, this.options.nowMs());
    this.releaseHeld();
    this.scheduleReady();
  }

  /**
   * Whether a request this server cannot take should wait for the
   * leadership to settle before it is answered: no leader is known, or the
   * one it follows has gone silent (see LeaderWatch).
   */
  leaderInDoubt(): boolean {
    return this.leaderWatch !== null && !this.stopping && !this.leaderWatch.isSettled(this.options.node.status(), this.options.nowMs());
  }

  /**
   * Calls `wake` once, when the leadership settles, this server stops, or the
   * hold time passes. False, and `wake` is never called, when nothing may be held.
   */
  awaitLeader(wake: () => void): boolean {
    return this.leaderWatch?.hold(this.options.nowMs(), wake) ?? false;
  }

  /** Whether leader work can be taken on now: only a leader takes it, and only while it has room. */
  admit(): Refusal | null {
    if (this.stopping) return { kind: "shutting-down" };
    if (this.options.node.status().role !== "leader") return { kind: "not-leader" };
    if (this.pending.isFull()) return { kind: "overloaded", pending: this.pending.size() };
    return null;
  }

  /** Proposes a command (a state machine's encoded input); `settle` hears how it ended, exactly once. */
  propose(data: Uint8Array, settle: (outcome: ProposalOutcome<Result>) => void): void {
    const refusal = this.admit();
    if (refusal !== null) return settle(refusal);
    const proposal = this.options.node.propose(data);
    if (!proposal.ok && proposal.reason === "transferring" && this.transferring !== null) {
      // Held, not refused: once the target leads the client is sent straight to it, and if the transfer fails this server takes it.
      this.heldDuringTransfer.push({ data, settle });
      return;
    }
    if (!proposal.ok) return settle({ kind: "not-leader" });
    // An earlier proposal at this index belongs to a leadership this server lost in between; the Ready loop answers it.
    const displaced = this.pending.addWrite(proposal.index, proposal.term, this.waiter(settle));
    if (displaced !== undefined) this.displacedWrites.push(displaced);
    this.scheduleReady();
  }

  /**
   * A single-server membership change (dissertation §4.1) as a
   * configuration entry, admitted as a proposal is (only a leader takes it);
   * `settle` hears how it ended, exactly once: done when the entry is
   * applied, refused at once when the core will not make it.
   */
  changeMembership(change: MembershipChange, settle: (outcome: MembershipOutcome) => void): void {
    const refusal = this.admit();
    if (refusal !== null) return settle(refusal);
    const proposal = this.options.node.proposeMembership(change);
    if (!proposal.ok) {
      if (proposal.reason === "refused") return settle({ kind: "refused", problem: proposal.problem });
      if (proposal.reason === "transferring") return settle({ kind: "refused", problem: `leadership is being handed to server ${proposal.leaderId}` });
      return settle({ kind: "not-leader" });
    }
    const displaced = this.changes.addWrite(proposal.index, proposal.term, this.waiter(settle));
    if (displaced !== undefined) this.displacedWrites.push(displaced);
    // The leader follows its new configuration at once (§4.1): a new member gets messages from the next Ready on.
    this.noteMembership();
    this.scheduleReady();
  }

  /**
   * A linearizable read through ReadIndex (Raft paper §8): the leader
   * confirms it still leads, then `query` is answered once the state machine
   * has applied everything committed when the read arrived.
   */
  read(query: Query, settle: (outcome: ReadOutcome<Answer>) => void): void {
    const refusal = this.admit();
    if (refusal !== null) return settle(refusal);
    const context = this.nextReadContext++;
    if (!this.options.node.readIndex(context)) return settle({ kind: "not-leader" });
    this.pending.addRead(context, { query, ...this.waiter(settle) });
    this.sendHeartbeatsDuringSave();
    this.scheduleReady();
  }

  /** The controller's TIMEOUT: campaign now, past PreVote and leader stickiness. False when this server already leads. */
  campaign(): boolean {
    if (this.stopping) return false;
    const started = this.options.node.campaign();
    this.scheduleReady();
    return started;
  }

  /** The controller's CONVERT_FOLLOWER: a leader becomes follower and does not stand for one election timeout. False when not leading. */
  stepDown(): boolean {
    if (this.stopping) return false;
    const steppedDown = this.options.node.stepDown();
    this.scheduleReady();
    return steppedDown;
  }

  /** Hands leadership to `target` (dissertation §3.10); `settle` hears how it ended, once the target leads or the transfer gave up. */
  transfer(target: NodeId, settle: (outcome: TransferOutcome) => void): void {
    if (this.stopping) return settle({ kind: "shutting-down" });
    if (this.transferring !== null) return settle({ kind: "refused", reason: `a transfer to server ${this.transferring.target} is under way` });
    const started = this.options.node.transferLeadership(target);
    if (!started.ok) return settle(this.options.node.status().role === "leader" ? { kind: "refused", reason: started.reason } : { kind: "not-leader" });
    this.transferring = { target, ...this.waiter(settle) };
    this.scheduleReady();
  }

  /**
   * The controller's `snapshot`: snapshots the state machine now, whatever
   * the policy says, and compacts the log; resolves with where the stored
   * snapshot ends (the stored one when nothing was applied since), or null
   * when the server stops first.
   */
  snapshotNow(): Promise<SnapshotMeta | null> {
    if (this.stopping) return Promise.resolve(null);
    const stored = new Promise<SnapshotMeta | null>((resolve) => this.snapshotWaiters.push(resolve));
    this.maybeSnapshot();
    return stored;
  }

  /** The stored snapshot (a consistent image of the state at its index, for backups), or null when none was taken. */
  storedSnapshot(): StoredSnapshot | null {
    return this.options.storage.readSnapshot();
  }

  /** Answers `query` from this server's own state at once: possibly behind the leader. */
  readStale(query: Query): Answer {
    return this.options.stateMachine.query(query);
  }

  /**
   * Holds a request until this server's state machine moves on, leader or
   * not: `check` is asked after each batch of entries applied until it
   * returns true (it has answered), and once more with `final` set, its
   * answer then ignored, when `waitMs` has passed or the server stops.
   */
  awaitApplied(waitMs: number, check: (final: boolean) => boolean): void {
    if (this.stopping) {
      check(true);
      return;
    }
    this.applyWaiters.add(this.options.nowMs() + waitMs, check);
  }

  /**
   * Stops taking requests, settles every pending one as shutting down and
   * waits for the Ready in progress to be saved.
   */
  async stop(): Promise<void> {
    this.isStopping = true;
    this.settleTransfer({ kind: "shutting-down" });
    // Writes in the log may still commit under another leader: their outcome is unknown. Reads had no effect.
    for (const write of [...this.pending.takeWrites(), ...this.changes.takeWrites(), ...this.displacedWrites]) write.settle({ kind: "unknown", reason: "shutting-down" });
    this.displacedWrites = [];
    for (const read of this.pending.takeReads()) read.settle({ kind: "shutting-down" });
    this.applyWaiters.endAll();
    this.releaseHeld();
    this.answerSnapshotWaiters(null);
    await this.readyLoop;
    await this.snapshotting;
    // A clean stop leaves the commit index on disk, so that the restart replays all it can before hearing a leader.
    if (this.unsavedCommit !== null && !this.failed) await this.options.storage.save(this.unsavedCommit, []);
    this.unsavedCommit = null;
  }

  private waiter<Outcome>(settle: (outcome: Outcome) => void): Waiter<Outcome> {
    return { deadlineMs: this.options.nowMs() + this.limits.requestTimeoutMs, settle };
  }

  // ---- the Ready loop -----------------------------------------------------

  /**
   * A save failed: nothing that waited on it may leave, and nothing more is
   * taken on or written; the process must stop (docs/architecture.md §4).
   */
  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.answerSnapshotWaiters(null);
    this.options.onFatal(error);
  }

  /**
   * Heartbeats and ReadIndex rounds never wait behind a disk write: while a
   * save is in flight, those the core can hand out now leave at once
   * (dissertation §10.2.1 lets what depends on nothing unsaved go early).
   */
  private sendHeartbeatsDuringSave(): void {
    if (this.readyLoop === null || this.failed) return;
    const heartbeats = this.options.node.takeHeartbeats();
    if (heartbeats.length > 0) this.options.peers.send(heartbeats);
  }

  /** Runs the Ready loop once per event-loop turn, after that turn's inputs: the batching point. */
  private scheduleReady(): void {
    if (this.readyScheduled || this.readyLoop !== null || this.failed) return;
    this.readyScheduled = true;
    setImmediate(() => {
      this.readyScheduled = false;
      if (this.readyLoop !== null) return;
      this.readyLoop = this.runReadyLoop()
        .catch((error: unknown) => this.fail(error))
        .finally(() => {
          this.readyLoop = null;
          // Input that arrived while the loop was finishing would otherwise wait for the next tick.
          if (this.options.node.hasReady()) this.scheduleReady();
        });
    });
  }

  private async runReadyLoop(): Promise<void> {
    const { node, storage, peers } = this.options;
    while (node.hasReady()) {
      const ready = node.ready();
      if (ready.softState !== null) storage.setWriteMode(writeModeFor(ready.softState.role));
      // A leader's AppendEntries leave before the save, and its disk write runs alongside its followers' (splitAtSave).
      const { beforeSave, afterSave } = splitAtSave(ready, this.savedHardState);
      if (beforeSave.length > 0) peers.send(beforeSave);
      // Answers for committed entries wait for nothing this save holds, unless it changes the term or vote (docs/architecture.md §4).
      const applyFirst = appliesBeforeSave(ready, this.savedHardState);
      if (applyFirst) this.applyAndServe(ready);
      // The persistence rule (Figure 2): durable before any message leaves, a vote is granted or a client is answered.
      if (this.onlyCommitIndexChanged(ready)) {
        // Raft needs no durable commit index (a restarted server relearns it from the leader): it is kept
        // only to replay faster after a restart, so it waits for the next save of entries, a term or a vote
        // instead of costing an fsync of its own, which the next save would queue behind (docs/architecture.md §4).
        this.unsavedCommit = ready.hardState;
      } else if (ready.snapshot !== null || ready.hardState !== null || ready.entries.length > 0) {
        await storage.save(ready.hardState ?? this.unsavedCommit, ready.entries, ready.snapshot ?? undefined);
        this.unsavedCommit = null;
      }
      if (ready.hardState !== null) this.savedHardState = ready.hardState;
      if (afterSave.length > 0) peers.send(afterSave);
      if (!applyFirst) this.applyAndServe(ready);
      this.settleLostLeadership(ready);
      if (this.transferring !== null) this.checkTransfer();
      node.advance(ready);
      // A leader promotes a caught-up learner as its acknowledgements or its own save arrive (dissertation §4.2.1).
      this.noteMembership();
      this.releaseHeld();
      this.maybeSnapshot();
    }
  }

  /** Calls onMembershipChange when the configuration in force is not the one it was last called with. */
  private noteMembership(): void {
    const membership = this.options.node.membership();
    const told = this.membershipTold;
    if (membership === told) return;
    this.membershipTold = membership;
    if (told !== null && sameMembership(told, membership)) return;
    this.options.onMembershipChange?.(membership);
  }

  /**
   * Starts a snapshot when one is due or asked for and none is being stored.
   * Called between Readys, never during one's save, so the snapshot's write
   * queues in storage behind every save of the entries it covers and ahead
   * of any later install of a leader's snapshot. Its entries must be durable
   * here (a leader may apply entries a majority of others stored before its
   * own write ends): until then it waits for the next Ready.
   */
  private maybeSnapshot(): void {
    if (this.snapshotting !== null || this.failed || this.isStopping) return;
    const { node, stateMachine } = this.options;
    const latest = node.latestSnapshot();
    const applied = stateMachine.lastApplied;
    const asked = this.snapshotWaiters.length > 0;
    if (applied <= latest.index) {
      if (asked) this.answerSnapshotWaiters(latest);
      return;
    }
    if (!asked && !snapshotDue(this.snapshotPolicy, this.snapshotPhase, latest.index, applied, this.appliedBytesSinceSnapshot)) return;
    if (applied > node.stableIndex()) return;
    // A server joining a cluster knows no configuration before the leader's entries bring one, and a
    // snapshot must keep the configuration at its index (dissertation §5.1): one without voters restores nothing.
    if (node.membershipAt(applied).voters.length === 0) {
      if (asked) this.answerSnapshotWaiters(latest);
      return;
    }
    this.snapshotting = this.storeSnapshot()
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.snapshotting = null;
      });
  }

  /**
   * Dissertation §5.1: the state machine's image goes to storage, then the
   * log drops what it covers, keeping a margin. A leader's snapshot installed
   * while this one was written went further: then this one changes nothing.
   */
  private async storeSnapshot(): Promise<void> {
    const { node, storage, stateMachine } = this.options;
    const image = stateMachine.takeSnapshot();
    const meta: SnapshotMeta = { index: image.lastApplied, term: node.logTerm(image.lastApplied)! };
    this.appliedBytesSinceSnapshot = 0;
    // The core's chunk comes first: the configuration at the snapshot's index (dissertation §5.1).
    await storage.saveSnapshot(meta, snapshotImage(node.membershipAt(meta.index), image.chunks()));
    const before = node.status();
    if (before.snapshotIndex < meta.index) {
      node.compact(meta, Math.max(0, meta.index - this.snapshotPolicy.keepEntries));
      const start = node.status().logStartIndex;
      if (start > before.logStartIndex) await storage.compact(start);
    }
    this.answerSnapshotWaiters(meta);
  }

  private answerSnapshotWaiters(meta: SnapshotMeta | null): void {
    const waiters = this.snapshotWaiters;
    this.snapshotWaiters = [];
    for (const resolve of waiters) resolve(meta);
  }

  private releaseHeld(): void {
    if (this.leaderWatch?.holding !== true) return;
    this.leaderWatch.check(this.options.node.status(), this.options.nowMs(), this.stopping);
  }

  private onlyCommitIndexChanged(ready: Ready): boolean {
    return ready.snapshot === null && ready.hardState !== null && ready.entries.length === 0 && keepsTermAndVote(ready, this.savedHardState);
  }

  /**
   * Proposals of a leadership this server no longer holds may still commit
   * under the next leader, so their outcome is unknown. A term change shows
   * it even where the role does not: a leader that stepped down and won
   * again while a save was in flight reports "leader" in both Readys.
   * Unconfirmed reads come back through Ready.droppedReads.
   */
  private settleLostLeadership(ready: Ready): void {
    const isLeader = ready.softState === null ? this.wasLeader : ready.softState.role === "leader";
    // The Ready's term is saved by now (savedHardState follows every save).
    const term = this.savedHardState.currentTerm;
    const lost =
      this.wasLeader && !isLeader
        ? [...this.pending.takeWrites(), ...this.changes.takeWrites()]
        : term > this.leadershipTerm
          ? [...this.pending.takeWritesBefore(term), ...this.changes.takeWritesBefore(term)]
          : [];
    const displaced = this.displacedWrites;
    this.displacedWrites = [];
    for (const write of [...lost, ...displaced]) write.settle({ kind: "unknown", reason: "leadership-lost" });
    this.wasLeader = isLeader;
    this.leadershipTerm = term;
  }

  /** A transfer ends when the target leads, or when the core gave it up while this server still leads. */
  private checkTransfer(): void {
    const status = this.options.node.status();
    if (status.leaderId !== null && status.leaderId !== status.id) this.settleTransfer({ kind: "done", leaderId: status.leaderId });
    else if (status.role === "leader" && status.transferTarget === null) this.settleTransfer({ kind: "aborted" });
  }

  private settleTransfer(outcome: TransferOutcome): void {
    const transferring = this.transferring;
    this.transferring = null;
    transferring?.settle(outcome);
    const held = this.heldDuringTransfer;
    this.heldDuringTransfer = [];
    for (const { data, settle } of held) this.propose(data, settle);
  }

  /** Applies the Ready's committed entries, answering their writes, and serves the reads they make servable. */
  private applyAndServe(ready: Ready): void {
    if (ready.snapshot !== null) {
      // Dissertation §5.1: the leader's image replaces the state; the entries after it apply on top.
      this.options.stateMachine.restore(ready.snapshot.meta.index, stateChunksOf(ready.snapshot.chunks));
      this.appliedBytesSinceSnapshot = 0;
    }
    this.apply(ready.committedEntries);
    if (ready.committedEntries.length > 0) this.applyWaiters.applied();
    for (const read of ready.readStates) this.pending.confirmRead(read.context, read.index);
    for (const context of ready.droppedReads) this.pending.takeUnconfirmedRead(context)?.settle({ kind: "not-leader" });
    this.serveReads();
  }

  private apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const result = this.options.stateMachine.apply(entry);
      this.appliedBytesSinceSnapshot += entry.data.length;
      this.settleChange(entry);
      const write = this.pending.takeWrite(entry.index, entry.term);
      if (write === null) continue;
      if (write.replaced || result === null) write.waiter.settle({ kind: "not-leader" });
      else write.waiter.settle({ kind: "applied", result });
    }
  }

  /** A membership change proposed at `entry`'s index is done when `entry` is its configuration entry. */
  private settleChange(entry: Entry): void {
    const change = this.changes.takeWrite(entry.index, entry.term);
    if (change === null) return;
    if (change.replaced || entry.type !== "config") change.waiter.settle({ kind: "not-leader" });
    else change.waiter.settle({ kind: "done", index: entry.index });
  }

  private serveReads(): void {
    const stateMachine = this.options.stateMachine;
    for (const read of this.pending.takeServableReads(stateMachine.lastApplied)) {
      read.settle({ kind: "answered", answer: stateMachine.query(read.query) });
    }
  }
}

/** Whether two configurations have the same voters, learners and context. */
function sameMembership(a: Membership, b: Membership): boolean {
  const sameIds = (x: readonly NodeId[], y: readonly NodeId[]): boolean => x.length === y.length && x.every((id, i) => id === y[i]);
  return sameIds(a.voters, b.voters) && sameIds(a.learners, b.learners) && a.context === b.context;
}

/**
 * A busy leader's thread has work while its disk writes (the next proposals,
 * its followers' answers), and a batch of several entries says it is busy;
 * anyone else's next step waits for the save, so a small write costs least on
 * its own thread (docs/architecture.md §4).
 */
function writeModeFor(role: Role): WriteMode {
  return role === "leader" ? "inline-single" : "inline";
}
