import { assert, assertNever } from "../base/assert.ts";
import type { RaftConfig } from "./config.ts";
import { RaftLog } from "./log.ts";
import type { Logger } from "../base/logger.ts";
import { QuorumActivity } from "./check-quorum.ts";
import { Progress } from "./progress.ts";
import { majority, quorumMatchIndex } from "./quorum.ts";
import { forgedAppendProblem, nextIndexAfterRejection } from "./append-checks.ts";
import { VoteTally, atTermBound, disregardsRequestVote, grantsPreVote, grantsVote, heardFromLeaderLately, termBoundError } from "./election.ts";
import { LeaderTransfer } from "./transfer.ts";
import type { Random } from "./random.ts";
import { ReadIndexQueue } from "./read-index.ts";
import { SnapshotReceiver, type SnapshotProblem } from "./snapshot-receiver.ts";
import { MembershipLog, applyMembershipChange, decodeMembership, encodeMembership, membershipChangeProblem, type Membership, type MembershipChange } from "./membership.ts";
import type {
  AppendEntries,
  AppendEntriesResponse,
  Entry,
  HardState,
  LogIndex,
  Message,
  NodeId,
  PreVote,
  PreVoteResponse,
  FollowerProgress,
  InstallSnapshot,
  InstallSnapshotResponse,
  ProposeResult,
  ReceivedSnapshot,
  SnapshotMeta,
  ReadState,
  RequestVote,
  RequestVoteResponse,
  Role,
  Term,
  TimeoutNow,
  TransferResult,
} from "./types.ts";
import { sameMeta, termMax } from "./types.ts";

/** How many ignored vote askers are remembered, so that a forger's ids cannot grow the set without bound. */
const nonVotersReportedMax = 64;

/**
 * Role-specific volatile state: only a leader has progress, reads, quorum
 * activity and a transfer; only a (pre-)candidate has votes. A pre-candidate
 * (dissertation §9.6) is a follower collecting pre-votes: it shows itself as
 * a follower, and has changed neither its term nor its vote.
 */
type RoleState =
  | { readonly role: "follower" }
  | { readonly role: "pre-candidate"; readonly votes: VoteTally }
  | { readonly role: "candidate"; readonly votes: VoteTally }
  | {
      readonly role: "leader";
      readonly progress: Map<NodeId, Progress>;
      readonly reads: ReadIndexQueue;
      readonly activity: QuorumActivity;
      transfer: LeaderTransfer | null;
      /** The trailing followers of the last flush (RaftConfig.trailingFollowers): what they are due waits for the next heartbeat. */
      trailing: ReadonlySet<NodeId>;
    };

/**
 * The Raft algorithm of Figure 2 as a deterministic state machine. It reads
 * time only from `tick(nowMs)` and randomness only from the injected Random;
 * what it wants done (messages, durable writes, applies) accumulates here and
 * is collected by RaftNode into a Ready.
 */
export class Raft {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly random: Random;
  private readonly logger: Logger;
  /** The configurations in the log (dissertation ch. 4); the latest is in force, committed or not (§4.1). */
  private readonly memberships: MembershipLog;
  /** The current configuration's voters, and every member but this server: who gets the leader's messages. */
  private voters: readonly NodeId[] = [];
  private others: readonly NodeId[] = [];

  // Persistent state (Figure 2): durable before any message that depends on it leaves.
  currentTerm: Term;
  votedFor: NodeId | null;
  readonly log: RaftLog;

  private state: RoleState = { role: "follower" };
  /** The leader of currentTerm when known; forgotten when the term changes. */
  leaderId: NodeId | null = null;

  private nowMs: number;
  /** Whether tick() was called yet: with electionTimerFromFirstTick, the first one starts the election timer. */
  private ticked = false;
  private electionDeadlineMs = 0;
  /** When the leader of currentTerm (leaderId) was last heard from: leader stickiness (dissertation §4.2.3). */
  private leaderContactMs = -Infinity;
  /** The highest commit index the leader of currentTerm announced to this follower; 0 when none did. */
  private announcedCommit: LogIndex = 0;
  /** The term bound stopped a campaign, and that was logged (once: it lasts). */
  private termBoundReported = false;
  private heartbeatDeadlineMs = 0;

  /** Messages waiting for the next Ready. */
  outbox: Message[] = [];
  /** New entries to replicate: one AppendEntries per follower at the next Ready (batching). */
  private appendWanted = false;
  readStates: ReadState[] = [];
  droppedReads: number[] = [];
  /** A leader's snapshot this follower took in place of its log, for the next Ready to store and restore. */
  installed: ReceivedSnapshot | null = null;
  private readonly snapshotReceiver: SnapshotReceiver;
  /** Servers whose vote requests were ignored, since they are no voters, and said so (ignoreNonVoter). */
  private readonly nonVotersReported = new Set<NodeId>();

  /**
   * `membership` is the configuration in force at the log's start (the
   * seed, or the stored snapshot's); configuration entries after it are read
   * from the log.
   */
  constructor(
    config: RaftConfig,
    hardState: HardState,
    log: RaftLog,
    nowMs: number,
    random: Random,
    logger: Logger,
    snapshotProblem: SnapshotProblem,
    membership: Membership,
  ) {
    this.id = config.id;
    this.config = config;
    this.random = random;
    this.logger = logger;
    this.memberships = new MembershipLog(membership, log.start.index);
    for (let index = log.start.index + 1; index <= log.lastIndex(); ) {
      const batch = log.slice(index, config.entriesPerReadyMax, config.logTailBytesMax);
      for (const entry of batch) this.noteConfigEntry(entry);
      index += batch.length;
    }
    this.membershipChanged();
    this.currentTerm = hardState.currentTerm;
    this.votedFor = hardState.votedFor;
    this.log = log;
    this.nowMs = nowMs;
    this.snapshotReceiver = new SnapshotReceiver(config.snapshotBytesMax, snapshotProblem);
    this.resetElectionDeadline();
  }

  role(): Role {
    return this.state.role === "pre-candidate" ? "follower" : this.state.role;
  }

  /** The configuration in force: the latest in the log (dissertation §4.1). */
  membership(): Membership {
    return this.memberships.current();
  }

  /** The configuration in force at `index`, for a snapshot up to it. */
  membershipAt(index: LogIndex): Membership {
    return this.memberships.at(index);
  }

  private isVoter(): boolean {
    return this.voters.includes(this.id);
  }

  /**
   * Whether this server stands for election when its timer runs out. A
   * learner, or a server the configuration left out, does not (dissertation
   * §4.2.1), with one exception: a voter whose removal is in its log but not
   * committed. It may hold entries no remaining voter has (it led while it
   * removed itself, §4.2.2); it then refuses the others its vote (§5.4.1),
   * and without it they may have no majority: nobody could ever win. It
   * stands in the latest configuration, as a leader that removed itself
   * manages it: only that configuration's voters count (its own vote does
   * not), and once it leads and the configuration commits, it steps down
   * (afterCommit).
   */
  private standsForElection(): boolean {
    if (this.isVoter()) return true;
    return this.log.commitIndex < this.memberships.currentIndex() && this.memberships.previous().voters.includes(this.id);
  }

  /** Records a configuration entry the log now holds (it was checked where it entered). */
  private noteConfigEntry(entry: Entry): void {
    if (entry.type !== "config") return;
    const membership = decodeMembership(entry.data);
    assert(typeof membership !== "string", `configuration entry ${entry.index}: ${String(membership)}`);
    this.memberships.appended(entry.index, membership);
  }

  /**
   * The configuration in force changed: who votes, who gets messages. A
   * leader follows each change at once (§4.1), tracking a new member from
   * the end of its log. A removed member keeps its progress: the leader
   * goes on replicating to it, counting it for nothing, until it holds the
   * latest configuration (releaseLeaver), however many changes come first.
   * A removed server that never learned of its removal would stand for
   * elections of a configuration it is no longer in, its vote requests
   * dropped by every voter (§4.2.3), and its status would be wrong.
   */
  private membershipChanged(): void {
    const { voters, learners } = this.memberships.current();
    this.voters = voters;
    this.others = [...voters, ...learners].filter((id) => id !== this.id);
    this.nonVotersReported.clear();
    if (this.state.role !== "leader") return;
    const { progress } = this.state;
    for (const id of this.others) if (!progress.has(id)) progress.set(id, new Progress(this.log.lastIndex() + 1, this.config.inflightAppendsMax));
  }

  /** The servers the latest configuration entry removed: a new leader informs them too (membershipChanged). */
  private leavers(): readonly NodeId[] {
    const { voters, learners } = this.memberships.previous();
    return [...voters, ...learners].filter((id) => id !== this.id && !this.others.includes(id));
  }

  /** A removed server holds the latest configuration, which leaves it out (membershipChanged): it needs nothing more from this leader. */
  private releaseLeaver(peer: NodeId, pr: Progress): void {
    if (this.state.role !== "leader" || this.others.includes(peer) || pr.matchIndex < this.memberships.currentIndex()) return;
    this.state.progress.delete(peer);
    this.logger.info(`server ${peer} holds the configuration that removed it (entry ${this.memberships.currentIndex()}): no more entries go to it`);
  }

  /** The server this leader is handing leadership to, or null. */
  transferTarget(): NodeId | null {
    return this.state.role === "leader" ? (this.state.transfer?.target ?? null) : null;
  }

  hardState(): HardState {
    return { currentTerm: this.currentTerm, votedFor: this.votedFor, commitIndex: this.log.commitIndex };
  }

  /** A leader's view of each follower; empty when not leading. */
  followers(): FollowerProgress[] {
    if (this.state.role !== "leader") return [];
    const members = [...this.state.progress].filter(([id]) => this.others.includes(id));
    return members.map(([id, pr]) => ({ id, matchIndex: pr.matchIndex, lastHeardMs: pr.lastHeardMs }));
  }

  /** The commit index of the leader of currentTerm as this server knows it: its own when leading, 0 when no leader is known. */
  leaderCommitIndex(): LogIndex {
    if (this.state.role === "leader") return this.log.commitIndex;
    return this.leaderId === null ? 0 : this.announcedCommit;
  }

  // ---- time ---------------------------------------------------------------

  tick(nowMs: number): void {
    assert(nowMs >= this.nowMs, `time went back from ${this.nowMs} to ${nowMs}`);
    this.nowMs = nowMs;
    if (!this.ticked) {
      this.ticked = true;
      if (this.config.electionTimerFromFirstTick && this.state.role !== "leader") this.resetElectionDeadline();
    }
    if (this.state.role === "leader") {
      if (!this.leaderTick(this.state)) return;
      if (nowMs >= this.heartbeatDeadlineMs) {
        this.heartbeatDeadlineMs = nowMs + this.config.heartbeatMs;
        this.broadcastHeartbeat(this.state.progress, this.state.reads.currentRound(), true);
        this.sendToTrailing(this.state);
      }
    } else if (nowMs >= this.electionDeadlineMs) {
      if (!this.standsForElection()) {
        this.resetElectionDeadline();
        return;
      }
      if (atTermBound(this.currentTerm)) {
        if (!this.termBoundReported) {
          this.logger.error(termBoundError(this.currentTerm));
          this.termBoundReported = true;
        }
        this.resetElectionDeadline();
        return;
      }
      // Debug: without a majority this repeats every election timeout; the server logs the leaderless state once instead.
      if (this.config.preVote) {
        this.logger.debug(`election timeout: asking for pre-votes for term ${this.currentTerm + 1}`);
        this.preCampaign();
      } else {
        this.logger.debug(`election timeout: campaigning for term ${this.currentTerm + 1}`);
        this.campaign(false);
      }
    }
  }

  /**
   * A leader's timers besides the heartbeat: a transfer that took longer than
   * an election timeout is abandoned (dissertation §3.10), and with
   * checkQuorum a leader that heard from no majority for an election timeout
   * steps down (dissertation §6.2). Returns whether it still leads.
   */
  private leaderTick(leader: Extract<RoleState, { role: "leader" }>): boolean {
    const transfer = leader.transfer;
    if (transfer !== null && transfer.expired(this.nowMs)) {
      leader.transfer = null;
      this.logger.info(`abandoned the transfer of leadership to server ${transfer.target}: not done within an election timeout; taking proposals again`);
    }
    if (!this.config.checkQuorum || !leader.activity.isDue(this.nowMs)) return true;
    if (leader.activity.closePeriod(this.nowMs, this.config.electionTimeoutMsMax, this.voters, this.id)) return true;
    this.logger.info(`stepped down in term ${this.currentTerm}: no majority heard from within an election timeout (CheckQuorum)`);
    this.becomeFollower(this.currentTerm, null);
    return false;
  }

  /** §5.2: a fresh random timeout on every reset spreads candidates apart in time. */
  private resetElectionDeadline(): void {
    this.electionDeadlineMs = this.nowMs + this.random.intBetween(this.config.electionTimeoutMsMin, this.config.electionTimeoutMsMax);
  }

  // ---- role transitions ---------------------------------------------------

  private becomeFollower(term: Term, leaderId: NodeId | null): void {
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
      this.announcedCommit = 0;
    }
    if (this.state.role === "leader") this.droppedReads.push(...this.state.reads.drain());
    // Figure 2: a follower's timer restarts only on hearing a leader (or granting a vote). A higher
    // term in a RequestVote it refuses must not restart it, or a candidate with a stale log keeps
    // postponing the servers that could win.
    const restartTimer = (this.state.role !== "follower" && this.state.role !== "pre-candidate") || leaderId !== null;
    this.state = { role: "follower" };
    this.leaderId = leaderId;
    this.appendWanted = false;
    if (restartTimer) this.resetElectionDeadline();
  }

  /**
   * Dissertation §9.6: ask every other server whether it would vote for us in
   * the next term, changing neither our term nor our vote.
   */
  private preCampaign(): void {
    const votes = new VoteTally(this.id);
    this.state = { role: "pre-candidate", votes };
    this.resetElectionDeadline();
    if (votes.won(this.voters)) {
      this.campaign(false);
      return;
    }
    for (const peer of this.otherVoters()) {
      this.send<PreVote>({ type: "PreVote", to: peer, lastLogIndex: this.log.lastIndex(), lastLogTerm: this.log.lastTerm() }, this.currentTerm + 1);
    }
  }

  /**
   * §5.2: increment the term, vote for self, ask every other server for its
   * vote. A `forced` campaign's requests pass leader stickiness.
   */
  private campaign(forced: boolean): void {
    if (this.state.role === "leader") this.droppedReads.push(...this.state.reads.drain());
    this.currentTerm++;
    this.votedFor = this.id;
    this.leaderId = null;
    this.announcedCommit = 0;
    this.state = { role: "candidate", votes: new VoteTally(this.id) };
    this.resetElectionDeadline();
    if (this.state.votes.won(this.voters)) {
      this.becomeLeader();
      return;
    }
    for (const peer of this.otherVoters()) {
      this.send<RequestVote>({
        type: "RequestVote",
        to: peer,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        ...(forced ? { forced: true } : {}),
      });
    }
  }

  private becomeLeader(): void {
    assert(this.state.role === "candidate", `became leader from ${this.state.role}`);
    assert(this.votedFor === this.id, "a leader voted for itself in its term");
    const votes = this.state.votes.granted();
    const progress = new Map<NodeId, Progress>();
    for (const peer of [...this.others, ...this.leavers()]) progress.set(peer, new Progress(this.log.lastIndex() + 1, this.config.inflightAppendsMax));
    const activity = new QuorumActivity(this.nowMs + this.config.electionTimeoutMsMax);
    this.state = { role: "leader", progress, reads: new ReadIndexQueue(), activity, transfer: null, trailing: noPeers };
    this.leaderId = this.id;
    this.logger.info(`elected leader for term ${this.currentTerm} with ${votes} of ${this.voters.length} votes`);
    // §5.4.2 and §8: a no-op of the new term lets the leader commit what earlier terms left uncommitted.
    this.appendOwn({ index: this.log.lastIndex() + 1, term: this.currentTerm, type: "noop", data: new Uint8Array(0) });
    this.heartbeatDeadlineMs = this.nowMs + this.config.heartbeatMs;
  }

  // ---- client-facing ------------------------------------------------------

  propose(data: Uint8Array): ProposeResult {
    if (this.state.role !== "leader") return { ok: false, reason: "not-leader", leaderId: this.leaderId };
    // Dissertation §3.10: new entries would keep the target behind; clients retry at the new leader.
    if (this.state.transfer !== null) return { ok: false, reason: "transferring", leaderId: this.state.transfer.target };
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.currentTerm, type: "command", data };
    this.appendOwn(entry);
    return { ok: true, index: entry.index, term: entry.term };
  }

  private appendOwn(entry: Entry): void {
    this.log.append(entry);
    this.appendWanted = true;
    if (entry.type === "config") {
      this.noteConfigEntry(entry);
      this.membershipChanged();
    }
  }

  /** Registers a linearizable read (§8); false when this server is not the leader. */
  readIndex(context: number): boolean {
    if (this.state.role !== "leader") return false;
    this.state.reads.add(context);
    if (this.otherVoters().length === 0) this.releaseReads();
    return true;
  }

  /**
   * Sends what this turn accumulated: one AppendEntries per follower for all
   * entries proposed since the last Ready, and one heartbeat round for all
   * reads that arrived since. Called by RaftNode when it builds a Ready.
   */
  flush(): void {
    if (this.state.role !== "leader") return;
    const { progress } = this.state;
    if (this.appendWanted) {
      this.appendWanted = false;
      this.state.trailing = this.trailingFollowers(progress);
      for (const [peer, pr] of progress) if (pr.canSend() && !this.waitsForHeartbeat(peer, pr)) this.sendAppend(peer, pr, false);
    }
    this.flushReadRound();
  }

  /** Starts the heartbeat round that confirms the reads waiting for one (ReadIndex, §8). */
  flushReadRound(): void {
    if (this.state.role !== "leader" || !this.state.reads.needsRound(this.readRoundAcknowledged)) return;
    const previousRound = this.state.reads.currentRound();
    this.state.reads.startRound();
    this.broadcastHeartbeat(this.state.progress, this.state.reads.currentRound(), false, this.readRoundSpared(this.state.progress, previousRound));
    this.releaseReads();
  }

  /**
   * The members a read round spares its empty heartbeat: all but the
   * majority partners (majorityPartners) among the replicating voters that
   * acknowledged the last round. A round needs no more (§8), and the others
   * are not woken for it: on one machine they would compete for the cores
   * the round's answers need. A spared member still gets entries it is due,
   * and one that probes or takes a snapshot gets what a round always sends
   * it. When too few acknowledged the last round (one is down or slow),
   * none is spared, so that a round never waits on a server that did not
   * answer the one before. A chosen voter that fails to answer delays the
   * round by at most a heartbeat interval: the periodic heartbeat goes to
   * every member and carries the round too.
   */
  private readRoundSpared(progress: ReadonlyMap<NodeId, Progress>, previousRound: number): ReadonlySet<NodeId> {
    if (previousRound === 0) return noPeers;
    const partners = this.majorityPartners(progress, (pr) => pr.state === "replicate" && pr.ackedReadRound >= previousRound);
    if (partners === null) return noPeers;
    return new Set([...progress.keys()].filter((id) => !partners.has(id)));
  }

  /**
   * The trailing followers of a flush (RaftConfig.trailingFollowers, docs/
   * architecture.md §5): the replicating voters other than the majority
   * partners (majorityPartners). The partners are the first idle ones,
   * those in replicate with nothing in flight that hold everything
   * committed, so that a follower with AppendEntries in flight trails while
   * an idle one takes its place. Under load none is idle: the partners are
   * then the first that hold everything committed. A partner that stops
   * answering falls behind the commit, which the trailing followers carry on
   * from the next heartbeat, and the next flush takes another.
   */
  private trailingFollowers(progress: ReadonlyMap<NodeId, Progress>): ReadonlySet<NodeId> {
    if (!this.config.trailingFollowers) return noPeers;
    const commitIndex = this.log.commitIndex;
    const holdsCommitted = (pr: Progress): boolean => pr.state === "replicate" && pr.matchIndex >= commitIndex;
    const partners =
      this.majorityPartners(progress, (pr) => holdsCommitted(pr) && !pr.hasInflight()) ??
      this.majorityPartners(progress, holdsCommitted);
    if (partners === null) return noPeers;
    return new Set(this.voters.filter((id) => id !== this.id && !partners.has(id) && progress.get(id)?.state === "replicate"));
  }

  /**
   * The first voters in configuration order, this server aside, whose
   * progress `qualifies`, as many as make a majority with the leader (all
   * of a majority when the leader is no voter); null when fewer qualify.
   */
  private majorityPartners(progress: ReadonlyMap<NodeId, Progress>, qualifies: (pr: Progress) => boolean): ReadonlySet<NodeId> | null {
    const needed = majority(this.voters.length) - (this.isVoter() ? 1 : 0);
    const chosen = new Set<NodeId>();
    for (const voter of this.voters) {
      if (chosen.size === needed) break;
      const pr = progress.get(voter);
      if (voter !== this.id && pr !== undefined && qualifies(pr)) chosen.add(voter);
    }
    return chosen.size < needed ? null : chosen;
  }

  /**
   * Whether what `peer` is due waits for the next heartbeat: it trails, and
   * less than a full AppendEntries waits for it. A full one goes at once:
   * waiting would only make the next one wait too, and a trailing follower
   * that is far behind catches up as fast as any.
   */
  private waitsForHeartbeat(peer: NodeId, pr: Progress): boolean {
    return this.state.role === "leader" && this.state.trailing.has(peer) && this.log.lastIndex() - pr.nextIndex + 1 < this.config.entriesPerAppendMax;
  }

  /** A leader's heartbeat sends the trailing followers what they are due since the last one, as many AppendEntries as it takes. */
  private sendToTrailing(leader: Extract<RoleState, { role: "leader" }>): void {
    for (const peer of leader.trailing) {
      const pr = leader.progress.get(peer);
      if (pr !== undefined) this.fillPipeline(peer, pr);
    }
  }

  /** Sends `peer` what it is due, in as many AppendEntries as its pipeline takes. */
  private fillPipeline(peer: NodeId, pr: Progress): void {
    while (pr.canSend() && pr.nextIndex <= this.log.lastIndex()) this.sendAppend(peer, pr, false);
  }

  hasPendingFlush(): boolean {
    return this.state.role === "leader" && (this.appendWanted || this.state.reads.needsRound(this.readRoundAcknowledged));
  }

  /** The leader's own durable entries count toward commit once stable (§5.3, §10.2.1 not yet used). */
  onStable(): void {
    if (this.state.role === "leader") this.maybeCommit();
  }

  // ---- the controller -----------------------------------------------------

  /**
   * Campaigns at once (skipping pre-votes), with requests marked forced so
   * that leader stickiness does not hold them back. False when leading, or
   * when the term is at its bound.
   */
  campaignNow(): boolean {
    if (this.state.role === "leader") return false;
    if (!this.isVoter()) {
      this.logger.warn(`not campaigning, as the controller asked: this server is not a voter of the configuration in force`);
      return false;
    }
    if (atTermBound(this.currentTerm)) {
      this.logger.error(termBoundError(this.currentTerm));
      return false;
    }
    this.logger.info(`campaigning at once for term ${this.currentTerm + 1}, as the controller asked`);
    this.campaign(true);
    return true;
  }

  /**
   * A leader becomes a follower in its term and sits out the next election:
   * its timer is set past every other server's (electionTimeoutMsMax) plus a
   * fresh randomized timeout, so another server campaigns first. False when
   * not leading.
   */
  stepDown(): boolean {
    if (this.state.role !== "leader") return false;
    this.logger.info(`stepped down in term ${this.currentTerm}, as the controller asked`);
    this.becomeFollower(this.currentTerm, null);
    this.electionDeadlineMs += this.config.electionTimeoutMsMax;
    return true;
  }

  /**
   * Dissertation §3.10: stop taking proposals, bring `target` up to date, then
   * send it TimeoutNow (see maybeSendTimeoutNow). Abandoned after an election
   * timeout (leaderTick).
   */
  transferLeadership(target: NodeId): TransferResult {
    if (this.state.role !== "leader") return { ok: false, reason: `server ${this.id} is not the leader` };
    const refusal = LeaderTransfer.refusal(this.id, target, this.state.progress, this.state.transfer);
    if (refusal !== null) return { ok: false, reason: refusal };
    if (!this.voters.includes(target)) return { ok: false, reason: `server ${target} is a learner, which cannot lead` };
    const pr = this.state.progress.get(target)!;
    this.state.transfer = new LeaderTransfer(target, this.nowMs + this.config.electionTimeoutMsMax);
    // The target must catch up (§3.10), so none trails; no proposal comes while the transfer lasts, so no flush chooses any.
    this.state.trailing = noPeers;
    this.logger.info(`handing leadership of term ${this.currentTerm} to server ${target}`);
    if (pr.canSend() && pr.nextIndex <= this.log.lastIndex()) this.sendAppend(target, pr, false);
    this.maybeSendTimeoutNow(target, pr);
    return { ok: true };
  }

  /** Dissertation §3.10: once the transfer's target holds the whole log, tell it to campaign. */
  private maybeSendTimeoutNow(peer: NodeId, pr: Progress): void {
    if (this.state.role !== "leader" || this.state.transfer === null) return;
    if (this.state.transfer.readyForTimeoutNow(peer, pr.matchIndex, this.log.lastIndex())) this.send<TimeoutNow>({ type: "TimeoutNow", to: peer });
  }

  // ---- messages -----------------------------------------------------------

  step(message: Message): void {
    // A leader may speak to a server that knows no configuration yet (one joining, dissertation §4.2.1), so
    // leaders' messages are taken from anyone; their answers reach a leader's progress only from members.
    // A vote request from a server that is no voter here is ignored while a leader is heard from: a server the
    // configuration removed cannot disrupt (§4.2.3). Without a leader it is answered as any: §4.1 has servers
    // grant votes without consulting their configuration, since a voter this server does not know of yet (its
    // log lacks the entry that promoted it) may be the only one that can win.
    if (message.to !== this.id || message.from === this.id) {
      this.logger.warn(`dropped a ${message.type} from ${message.from} to ${message.to}: not a peer message for this server`);
      return;
    }
    if ((message.type === "RequestVote" || message.type === "PreVote") && !this.voters.includes(message.from) && this.hasCurrentLeader()) {
      return this.ignoreNonVoter(message);
    }
    // Pre-votes never change a term or a vote (dissertation §9.6), so they bypass §5.1's term rule.
    if (message.type === "PreVote") return this.onPreVote(message);
    if (message.type === "PreVoteResponse" && message.voteGranted) return this.onPreVoteGranted(message);
    if (message.type === "RequestVote" && disregardsRequestVote(message, this.currentTerm, this.config.checkQuorum, this.hasCurrentLeader())) {
      this.logger.debug(`ignored RequestVote from server ${message.from} for term ${message.term}: server ${this.leaderId} leads term ${this.currentTerm}`);
      return;
    }
    if (message.term > this.currentTerm) {
      // §5.1: a higher term makes any server a follower. Only an AppendEntries names the new leader.
      if (this.state.role === "leader") {
        this.logger.info(`stepped down: saw term ${message.term} from server ${message.from}`);
      }
      this.becomeFollower(message.term, message.type === "AppendEntries" ? message.from : null);
    } else if (message.term < this.currentTerm) {
      this.rejectStale(message);
      return;
    }
    assert(message.term === this.currentTerm, "message term equals current term after the term check");
    if (this.state.role === "leader") {
      this.state.activity.note(message.from);
      const pr = this.state.progress.get(message.from);
      if (pr !== undefined) pr.lastHeardMs = this.nowMs;
    }
    switch (message.type) {
      case "RequestVote":
        return this.onRequestVote(message);
      case "RequestVoteResponse":
        return this.onRequestVoteResponse(message);
      case "AppendEntries":
        return this.onAppendEntries(message);
      case "AppendEntriesResponse":
        return this.onAppendEntriesResponse(message);
      case "InstallSnapshot":
        return this.onInstallSnapshot(message);
      case "InstallSnapshotResponse":
        return this.onInstallSnapshotResponse(message);
      case "PreVoteResponse":
        // A refusal in our term; one with a higher term made us a follower above (§5.1).
        if (this.state.role === "pre-candidate") this.state.votes.record(message.from, false);
        return;
      case "TimeoutNow":
        return this.onTimeoutNow(message);
      default:
        return assertNever(message, "message");
    }
  }

  /**
   * Dissertation §4.2.3: a vote request from a server that is no voter here
   * is dropped. A server removed while it could not hear of it asks again
   * every election timeout, so each asker is reported once (a forger's many
   * ids forget the oldest).
   */
  private ignoreNonVoter(message: RequestVote | PreVote): void {
    if (this.nonVotersReported.has(message.from)) return;
    if (this.nonVotersReported.size >= nonVotersReportedMax) this.nonVotersReported.clear();
    this.nonVotersReported.add(message.from);
    this.logger.warn(
      `ignored a ${message.type} from server ${message.from}, which is no voter of the configuration in force ` +
        `(removed while it was down or cut off?); its vote requests are ignored from now on, without a word`,
    );
  }

  /** §5.1: a stale request is refused with our term, so its sender learns it is behind. */
  private rejectStale(message: Message): void {
    if (message.type === "RequestVote") {
      this.send<RequestVoteResponse>({ type: "RequestVoteResponse", to: message.from, voteGranted: false });
    } else if (message.type === "AppendEntries") {
      // The answer carries this server's term and nothing of the stale message: its sender may lead that term by
      // the time a late copy is answered, and would take an echoed read round as this server confirming a round of
      // its new term, sent after a read that arrived since (§8), or an echoed index as a rejection of its own.
      this.send<AppendEntriesResponse>({
        type: "AppendEntriesResponse",
        to: message.from,
        success: false,
        matchIndex: 0,
        rejectedIndex: 0,
        conflictTerm: 0,
        conflictIndex: 0,
        readRound: 0,
      });
    } else if (message.type === "InstallSnapshot") {
      this.send<InstallSnapshotResponse>({ type: "InstallSnapshotResponse", to: message.from, snapshot: message.snapshot, nextChunk: 0, done: false });
    }
  }

  private onRequestVote(message: RequestVote): void {
    const granted = grantsVote(message, this.votedFor, this.log);
    if (granted) {
      this.votedFor = message.from;
      this.resetElectionDeadline();
    }
    this.send<RequestVoteResponse>({ type: "RequestVoteResponse", to: message.from, voteGranted: granted });
  }

  /** Leader stickiness (dissertation §4.2.3); a leader hears itself. */
  private hasCurrentLeader(): boolean {
    if (this.state.role === "leader") return true;
    return heardFromLeaderLately(this.leaderId, this.leaderContactMs, this.nowMs, this.config.electionTimeoutMsMin);
  }

  /** Dissertation §9.6: changes nothing here; a grant carries the term asked about, a refusal our own term. */
  private onPreVote(message: PreVote): void {
    const granted = grantsPreVote(message, this.currentTerm, this.log, this.hasCurrentLeader());
    this.send<PreVoteResponse>({ type: "PreVoteResponse", to: message.from, voteGranted: granted }, granted ? message.term : this.currentTerm);
  }

  private onPreVoteGranted(message: PreVoteResponse): void {
    if (message.term > this.currentTerm + 1) {
      this.logger.warn(`dropped PreVoteResponse from server ${message.from}: it grants term ${message.term}, but this server asks only about term ${this.currentTerm + 1}`);
      return;
    }
    // Late: from an earlier round, or we have moved on.
    if (this.state.role !== "pre-candidate" || message.term !== this.currentTerm + 1) return;
    this.state.votes.record(message.from, true);
    if (!this.state.votes.won(this.voters)) return;
    this.logger.debug(`won a majority of pre-votes: campaigning for term ${this.currentTerm + 1}`);
    this.campaign(false);
  }

  /** Dissertation §3.10: the leader of our term hands over; anyone else is not believed. */
  private onTimeoutNow(message: TimeoutNow): void {
    if (this.state.role === "leader" || this.leaderId !== message.from || !this.isVoter()) {
      this.logger.warn(`dropped TimeoutNow from server ${message.from}: it is not the leader of term ${this.currentTerm} (leader: ${this.leaderId ?? "unknown"})`);
      return;
    }
    if (atTermBound(this.currentTerm)) {
      this.logger.error(`cannot take over from server ${message.from}: the term ${this.currentTerm} is at the bound ${termMax}`);
      return;
    }
    this.logger.info(`server ${message.from} hands leadership to this server: campaigning for term ${this.currentTerm + 1}`);
    this.campaign(true);
  }

  private onRequestVoteResponse(message: RequestVoteResponse): void {
    if (this.state.role !== "candidate") return;
    this.state.votes.record(message.from, message.voteGranted);
    if (this.state.votes.won(this.voters)) this.becomeLeader();
  }

  /** §5.3: the consistency check on (prevLogIndex, prevLogTerm), then append and advance commit. */
  private onAppendEntries(received: AppendEntries): void {
    if (this.refusesLeaderMessage(received)) return;
    const message = this.afterLogStart(received);
    const forgery = message === null ? "its entry at the log's start conflicts with the committed one" : forgedAppendProblem(message, this.leaderId, this.currentTerm, this.log, this.config.entriesPerAppendMax);
    if (forgery !== null || message === null) {
      this.logger.warn(`dropped AppendEntries from server ${received.from}: ${forgery}; no honest leader sends that`);
      return;
    }
    this.heardFromLeader(message.from);
    this.announcedCommit = Math.max(this.announcedCommit, message.leaderCommit);

    const reply = { type: "AppendEntriesResponse", to: message.from, readRound: message.readRound } as const;
    if (!this.log.matchTerm(message.prevLogIndex, message.prevLogTerm)) {
      const hint = this.log.conflictHint(message.prevLogIndex);
      this.send<AppendEntriesResponse>({ ...reply, success: false, matchIndex: 0, rejectedIndex: message.prevLogIndex, ...hint });
      return;
    }
    const { matchIndex, firstNew } = this.log.appendAfter(message.prevLogIndex, message.entries);
    this.followLogChange(firstNew, message.entries);
    // Figure 2: commitIndex = min(leaderCommit, index of last new entry); only what is known to match.
    this.log.commitTo(Math.min(message.leaderCommit, matchIndex));
    // What the message covered matches, the part below the log's start too: that is committed here.
    const covered = received.prevLogIndex + received.entries.length;
    assert(covered === matchIndex || covered < this.log.start.index, `matched ${matchIndex} of a message covering ${covered}`);
    this.send<AppendEntriesResponse>({ ...reply, success: true, matchIndex: covered, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0 });
  }

  /** The log changed from `firstNew` on: its configuration entries went with it, and `entries`' came (§4.1). */
  private followLogChange(firstNew: LogIndex, entries: readonly Entry[]): void {
    const before = this.memberships.current();
    this.memberships.truncateFrom(firstNew);
    for (const entry of entries) if (entry.index >= firstNew) this.noteConfigEntry(entry);
    if (this.memberships.current() !== before) this.membershipChanged();
  }

  /**
   * A message only the leader of our term sends (AppendEntries,
   * InstallSnapshot) that we refuse outright: we lead this term ourselves,
   * and two leaders in one term would break Election Safety (§5.2).
   */
  private refusesLeaderMessage(message: AppendEntries | InstallSnapshot): boolean {
    if (this.state.role !== "leader") return false;
    this.logger.error(`dropped ${message.type} from server ${message.from}: this server leads term ${this.currentTerm}`);
    return true;
  }

  /** The leader of our term spoke: follow it, and give it a full election timeout before suspecting it (§5.2). */
  private heardFromLeader(leader: NodeId): void {
    if (this.state.role === "candidate" || this.state.role === "pre-candidate") this.becomeFollower(this.currentTerm, leader);
    this.leaderId = leader;
    this.leaderContactMs = this.nowMs;
    this.resetElectionDeadline();
  }

  /**
   * `message` as it reads from the log's start on: entries up to the start
   * are committed and gone here (dissertation ch. 5), and a leader's log holds
   * every committed entry (Leader Completeness, §5.4), so they match without
   * a look. Null when the message's own entry at the start says otherwise:
   * no honest leader sends that.
   */
  private afterLogStart(message: AppendEntries): AppendEntries | null {
    const start = this.log.start;
    if (message.prevLogIndex >= start.index) return message;
    const skipped = start.index - message.prevLogIndex;
    const atStart = message.entries[skipped - 1];
    if (atStart !== undefined && atStart.term !== start.term) return null;
    const entries = message.entries.slice(skipped);
    return { ...message, prevLogIndex: start.index, prevLogTerm: start.term, entries };
  }

  /**
   * InstallSnapshot (dissertation §5.1, Figure 5.3), one chunk: from the
   * leader of our term only. A snapshot this follower's log already covers
   * (committed, or ending at an entry it holds) needs no install: by Log
   * Matching its log agrees with the leader's up to there.
   */
  private onInstallSnapshot(message: InstallSnapshot): void {
    if (this.refusesLeaderMessage(message)) return;
    if (this.leaderId !== null && this.leaderId !== message.from) {
      this.logger.warn(`dropped InstallSnapshot from server ${message.from}: server ${this.leaderId} already leads term ${this.currentTerm}; no honest leader sends that`);
      return;
    }
    this.heardFromLeader(message.from);
    const reply = { type: "InstallSnapshotResponse", to: message.from, snapshot: message.snapshot } as const;
    const { index, term } = message.snapshot;
    if (index <= this.log.commitIndex || this.log.matchTerm(index, term)) {
      this.snapshotReceiver.reset();
      this.log.commitTo(index);
      this.send<InstallSnapshotResponse>({ ...reply, nextChunk: 0, done: true });
      return;
    }
    const outcome = this.snapshotReceiver.accept(message);
    switch (outcome.kind) {
      case "next":
        return this.send<InstallSnapshotResponse>({ ...reply, nextChunk: outcome.nextChunk, done: false });
      case "refused":
        this.logger.warn(`dropped InstallSnapshot from server ${message.from}: ${outcome.reason}; no honest leader sends that`);
        return;
      case "complete":
        this.logger.info(`installed the snapshot of server ${message.from} up to entry ${index} (term ${term}) in place of the log up to ${this.log.lastIndex()}`);
        this.log.restore(outcome.snapshot.meta);
        this.memberships.reset(outcome.membership, index);
        this.membershipChanged();
        this.installed = outcome.snapshot;
        return this.send<InstallSnapshotResponse>({ ...reply, nextChunk: 0, done: true });
      default:
        return assertNever(outcome, "chunk outcome");
    }
  }

  /** The leader's side: send the chunk the follower asked for, or move on once it holds the snapshot. */
  private onInstallSnapshotResponse(message: InstallSnapshotResponse): void {
    const pr = this.memberProgress(message);
    if (pr === undefined) return;
    const sending = pr.snapshot;
    // Late: for a transfer that ended or was replaced by a newer snapshot.
    if (sending === null || !sameMeta(sending.meta, message.snapshot)) return;
    pr.stalledHeartbeats = 0;
    if (message.done) {
      this.logger.info(`server ${message.from} holds the snapshot up to entry ${sending.meta.index}: replicating the log after it`);
      pr.snapshotDone();
      this.maybeCommit();
      // A leader whose removal this commit completed has stepped down (afterCommit).
      if (this.state.role === "leader") this.sendAppend(message.from, pr, true);
      return;
    }
    sending.nextChunk = message.nextChunk;
    this.sendSnapshotChunk(message.from, pr);
  }

  private onAppendEntriesResponse(message: AppendEntriesResponse): void {
    const pr = this.memberProgress(message);
    if (pr === undefined) return;
    // Any answer in our term shows the follower still accepts us as leader.
    if (message.readRound > pr.ackedReadRound) {
      pr.ackedReadRound = message.readRound;
      this.releaseReads();
    }
    // While it gets a snapshot, the follower's answers to heartbeats say nothing about its log that matters,
    // only that it is up: if a chunk or its answer was lost, the chunk it asked for goes again (it keeps what
    // it has). A follower that is down is sent heartbeats only, not chunks of up to a MiB.
    if (pr.state === "snapshot") {
      if (pr.stalledHeartbeats >= 2) {
        pr.stalledHeartbeats = 0;
        this.sendSnapshotChunk(message.from, pr);
      }
      return;
    }
    if (message.success) {
      if (message.matchIndex > pr.sentIndexMax) {
        // Counting it could commit entries no majority holds.
        this.logger.warn(
          `dropped AppendEntriesResponse from server ${message.from}: it acknowledges up to ${message.matchIndex}, ` +
            `but only entries up to ${pr.sentIndexMax} were sent to it in term ${this.currentTerm}`,
        );
        return;
      }
      if (pr.acknowledge(message.matchIndex)) {
        this.maybeCommit();
        if (!this.voters.includes(message.from)) this.maybePromote();
        this.releaseLeaver(message.from, pr);
        // A leader whose removal just committed has stepped down (afterCommit); a released leaver gets nothing more.
        if (this.state.role !== "leader" || !this.state.progress.has(message.from)) return;
      }
      if (pr.canSend() && pr.nextIndex <= this.log.lastIndex() && !this.waitsForHeartbeat(message.from, pr)) this.sendAppend(message.from, pr, false);
      this.maybeSendTimeoutNow(message.from, pr);
      return;
    }
    // A rejection of an index at or below what is known to match is a late duplicate.
    if (message.rejectedIndex <= pr.matchIndex || message.rejectedIndex >= pr.nextIndex) return;
    if (this.refillsGap(message.from, pr, message)) return;
    pr.probeFrom(nextIndexAfterRejection(message, pr.matchIndex, this.log));
    this.sendAppend(message.from, pr, true);
  }

  // ---- leader internals ---------------------------------------------------

  /**
   * A replicating follower whose log merely ends before a rejected
   * AppendEntries (a gap: conflictTerm 0, its log's end before the rejected
   * index) lacks entries that were lost on the way (a full queue), or
   * overtaken where messages can reorder. The pipeline goes back to the
   * gap and goes on from there, still replicating, once per gap
   * (Progress.gapRefilledFrom): the rejections of the AppendEntries that
   * were in flight behind the gap point no further, and change nothing.
   * Probing instead would send one AppendEntries a round trip until the
   * follower caught up, and every overtaken message would start that over.
   * A refill that is lost too stalls the pipeline, and the heartbeat probes
   * (broadcastHeartbeat). Returns whether it dealt with the rejection.
   */
  private refillsGap(peer: NodeId, pr: Progress, message: AppendEntriesResponse): boolean {
    const from = message.conflictIndex;
    if (pr.state !== "replicate" || message.conflictTerm !== 0 || from <= pr.matchIndex || from > message.rejectedIndex || from <= this.log.start.index) return false;
    if (from <= pr.gapRefilledFrom) return true;
    pr.refillFrom(from);
    this.fillPipeline(peer, pr);
    return true;
  }

  /**
   * Sends entries from the follower's nextIndex (at most the configured
   * count and bytes). `force` sends even when there is nothing new, which
   * makes a probe or a heartbeat.
   */
  private sendAppend(peer: NodeId, pr: Progress, force: boolean): void {
    assert(this.state.role === "leader", "only a leader sends AppendEntries");
    // Dissertation §5.1: the follower needs entries compacted away; only the snapshot can bring it on.
    if (pr.nextIndex <= this.log.start.index) return this.startSnapshot(peer, pr);
    const entries = this.log.slice(pr.nextIndex, this.config.entriesPerAppendMax, this.config.bytesPerAppendMax);
    if (entries.length === 0 && !force) return;
    const prevLogIndex = pr.nextIndex - 1;
    this.sendAppendEntries(peer, pr, prevLogIndex, entries, this.state.reads.currentRound());
    if (entries.length > 0) pr.sent(entries.at(-1)!.index);
    else if (pr.state === "probe") pr.probeSent = true;
  }

  /** Dissertation §5.1: the follower gets the leader's latest snapshot, from its first chunk. */
  private startSnapshot(peer: NodeId, pr: Progress): void {
    const meta = this.log.snapshot;
    // Once per follower that falls behind; a transfer that starts over with a newer snapshot is routine.
    const why = `server ${peer} needs entries before ${this.log.start.index + 1}, which are compacted: sending it the snapshot up to entry ${meta.index}`;
    if (pr.state === "snapshot") this.logger.debug(why);
    else this.logger.info(why);
    pr.sendSnapshot(meta);
    this.sendSnapshotChunk(peer, pr);
  }

  /**
   * Sends the chunk of the snapshot in transfer that the follower asked for
   * last. When the snapshot is no longer stored (a newer one replaced it,
   * ch. 5), the transfer starts over with the newer one.
   */
  private sendSnapshotChunk(peer: NodeId, pr: Progress): void {
    const sending = pr.snapshot!;
    const current = sameMeta(sending.meta, this.log.snapshot);
    const chunk = current ? this.log.snapshotChunk(sending.nextChunk) : undefined;
    if (chunk === undefined) {
      if (current) {
        this.logger.warn(`server ${peer} asked for chunk ${sending.nextChunk} of the snapshot up to entry ${sending.meta.index}, which has no such chunk`);
        sending.nextChunk = 0;
        return;
      }
      return this.startSnapshot(peer, pr);
    }
    this.send<InstallSnapshot>({ type: "InstallSnapshot", to: peer, snapshot: sending.meta, chunk: sending.nextChunk, last: chunk.last, data: chunk.data });
  }

  private sendAppendEntries(peer: NodeId, pr: Progress, prevLogIndex: LogIndex, entries: readonly Entry[], readRound: number): void {
    const prevLogTerm = this.log.term(prevLogIndex);
    assert(prevLogTerm !== undefined, `prevLogIndex ${prevLogIndex} beyond the leader's log`);
    pr.noteSent(prevLogIndex + entries.length);
    this.send<AppendEntries>({
      type: "AppendEntries",
      to: peer,
      prevLogIndex,
      prevLogTerm,
      entries,
      leaderCommit: this.log.commitIndex,
      readRound,
    });
  }

  /**
   * §5.2 heartbeats. A probing follower gets a fresh probe; a replicating one
   * an empty AppendEntries at its matchIndex, which it is sure to accept while
   * later entries are still in flight. On the timer (`fromTimer`) a follower
   * whose pipeline made no progress for two heartbeats is probed again: an
   * AppendEntries was lost.
   */
  private broadcastHeartbeat(progress: ReadonlyMap<NodeId, Progress>, readRound: number, fromTimer: boolean, spared: ReadonlySet<NodeId> = noPeers): void {
    for (const [peer, pr] of progress) {
      if (fromTimer && pr.state === "replicate" && pr.hasInflight() && ++pr.stalledHeartbeats >= 2) {
        pr.probeFrom(pr.matchIndex + 1);
      }
      if (pr.state === "snapshot") {
        if (fromTimer) pr.stalledHeartbeats++;
        // It may lack the log's start; its answer still counts for ReadIndex, keeps it following, and shows it is up.
        this.sendAppendEntries(peer, pr, this.log.start.index, [], readRound);
      } else if (pr.state === "probe") {
        pr.probeSent = false;
        this.sendAppend(peer, pr, true);
      } else {
        if (!spared.has(peer)) this.sendAppendEntries(peer, pr, Math.max(pr.matchIndex, this.log.start.index), [], readRound);
        if (pr.canSend()) this.sendAppend(peer, pr, false);
      }
    }
  }

  /** §5.3 and §5.4.2 (Figure 8): commit by counting replicas only for an entry of the current term. */
  private maybeCommit(): void {
    assert(this.state.role === "leader", "only a leader counts replicas");
    const { progress } = this.state;
    // Dissertation §4.1: the current configuration's voters count, this server only when it is one of them.
    const matches = this.voters.map((voter) => (voter === this.id ? this.log.stableIndex : (progress.get(voter)?.matchIndex ?? 0)));
    const candidate = quorumMatchIndex(matches);
    if (candidate > this.log.commitIndex && this.log.term(candidate) === this.currentTerm) {
      this.log.commitTo(candidate);
      this.releaseReads();
      this.afterCommit();
    }
  }

  /**
   * Dissertation §4.2.2: a leader the configuration removed manages the
   * cluster until that configuration commits, then steps down; §4.2.1: a
   * learner that has caught up is promoted, one change at a time.
   */
  private afterCommit(): void {
    if (this.state.role !== "leader") return;
    if (!this.isVoter() && this.log.commitIndex >= this.memberships.currentIndex()) {
      this.logger.info(`stepped down in term ${this.currentTerm}: the configuration that removed this server is committed`);
      this.becomeFollower(this.currentTerm, null);
      return;
    }
    this.maybePromote();
  }

  /** Dissertation §4.2.1: a learner that holds everything committed becomes a voter, one at a time. */
  private maybePromote(): void {
    if (this.state.role !== "leader") return;
    for (const learner of this.memberships.current().learners) {
      const pr = this.state.progress.get(learner);
      if (pr !== undefined && pr.matchIndex >= this.log.commitIndex && this.proposeMembership({ kind: "promote", id: learner }).ok) {
        this.logger.info(`server ${learner} caught up (entry ${pr.matchIndex}): promoting it from learner to voter`);
        return;
      }
    }
  }

  /**
   * Appends a single-server configuration change (dissertation §4.1): only
   * a leader, one change at a time (the previous one committed), and only
   * once an entry of its own term committed, so that a configuration of an
   * earlier leader cannot still be in flight (the §4.1 correction).
   */
  proposeMembership(change: MembershipChange): ProposeResult | { readonly ok: false; readonly reason: "refused"; readonly problem: string } {
    if (this.state.role !== "leader") return { ok: false, reason: "not-leader", leaderId: this.leaderId };
    if (this.state.transfer !== null) return { ok: false, reason: "transferring", leaderId: this.state.transfer.target };
    const pending = this.memberships.currentIndex();
    if (pending > this.log.commitIndex) return { ok: false, reason: "refused", problem: `the configuration change at entry ${pending} is not committed yet` };
    if (this.log.term(this.log.commitIndex) !== this.currentTerm) return { ok: false, reason: "refused", problem: "this leader has not committed an entry of its term yet" };
    const problem = membershipChangeProblem(this.memberships.current(), change);
    if (problem !== null) return { ok: false, reason: "refused", problem };
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.currentTerm, type: "config", data: encodeMembership(applyMembershipChange(this.memberships.current(), change)) };
    this.appendOwn(entry);
    return { ok: true, index: entry.index, term: entry.term };
  }

  private releaseReads(): void {
    if (this.state.role !== "leader") return;
    // §8: until an entry of its own term commits, the leader's commit index may lag what earlier leaders committed.
    if (this.log.term(this.log.commitIndex) !== this.currentTerm) return;
    this.readStates.push(...this.state.reads.release(this.log.commitIndex, this.readRoundAcknowledged));
  }

  /** Whether a majority, the leader counted, has echoed heartbeat round `round` or a later one. Only for a leader. */
  private readonly readRoundAcknowledged = (round: number): boolean => {
    if (this.state.role !== "leader") return false;
    const { progress } = this.state;
    let count = 0;
    for (const voter of this.voters) if (voter === this.id || (progress.get(voter)?.ackedReadRound ?? 0) >= round) count++;
    return count >= majority(this.voters.length);
  };

  /** A leader's progress of the member that answered; undefined when not leading, or the sender is no member (removed, or forged). */
  private memberProgress(message: AppendEntriesResponse | InstallSnapshotResponse): Progress | undefined {
    if (this.state.role !== "leader") return undefined;
    const pr = this.state.progress.get(message.from);
    if (pr === undefined) this.logger.debug(`ignored ${message.type} from server ${message.from}: not a member of the configuration in force`);
    return pr;
  }

  /** Dissertation §5.1 and §4.1: the log is compacted through `through`; the configuration there becomes the base. */
  compact(snapshot: SnapshotMeta, through: LogIndex): void {
    this.log.compact(snapshot, through);
    this.memberships.compactTo(this.log.start.index);
  }

  /** The voters but this server: whom a (pre-)candidate asks. */
  private otherVoters(): readonly NodeId[] {
    return this.voters.filter((id) => id !== this.id);
  }

  /** Queues `message` from this server, in our term unless it is a pre-vote's (dissertation §9.6). */
  private send<M extends Message>(message: Omit<M, "term" | "from">, term: Term = this.currentTerm): void {
    this.outbox.push({ ...message, term, from: this.id } as unknown as Message);
  }

  // ---- inspection ---------------------------------------------------------

  checkInvariants(): void {
    this.log.checkInvariants();
    assert(this.log.lastTerm() <= this.currentTerm, `last log term ${this.log.lastTerm()} above current term ${this.currentTerm}`);
    switch (this.state.role) {
      case "leader":
        assert(this.votedFor === this.id && this.leaderId === this.id, "a leader voted for itself and knows itself as leader");
        for (const pr of this.state.progress.values()) pr.checkInvariants(this.log.lastIndex());
        assert(this.state.transfer === null || this.others.includes(this.state.transfer.target), "a transfer goes to another server");
        break;
      case "pre-candidate":
        assert(this.leaderId !== this.id && this.state.votes.grantedBy(this.id), "a pre-candidate is no leader and pre-votes for itself");
        break;
      case "candidate":
        assert(this.votedFor === this.id && this.leaderId === null, "a candidate voted for itself and knows no leader");
        break;
      case "follower":
        assert(this.leaderId !== this.id, "a follower does not think itself leader");
        break;
      default:
        assertNever(this.state, "role state");
    }
  }
}

const noPeers: ReadonlySet<NodeId> = new Set();
