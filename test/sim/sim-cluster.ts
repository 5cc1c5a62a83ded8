import { assertNever } from "../../src/base/assert.ts";
import type { Logger } from "../../src/base/logger.ts";
import {
  RaftNode,
  emptyHardState,
  appliesBeforeSave,
  splitAtSave,
  type HardState,
  type Membership,
  type MembershipChange,
  type Message,
  type NodeId,
  type NodeStatus,
  type ProposeResult,
  type RaftConfig,
  type RaftNodeOptions,
  type Ready,
  type SnapshotMeta,
  raftConfigDefaults,
  SeededRandom,
  snapshotImage,
  snapshotMembership,
  stateChunksOf,
} from "../../src/raft/index.ts";
import { isDeepStrictEqual } from "node:util";
import { KvStore } from "../../src/kv/kv-store.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import type { StoredSnapshot } from "../../src/storage/storage.ts";
import { type CheckerName, ReadIndexChecker, SafetyChecker, type ServerDisk, SimulationViolation } from "./checkers.ts";
import { DurableLog } from "./durable-log.ts";
import { MembershipChecker } from "./membership-checker.ts";
import { ElectionChecker } from "./election-checker.ts";
import { SimNetwork } from "./sim-network.ts";
import { SimStateMachine, imageSummary, simSnapshotProblem } from "./sim-state-machine.ts";
import { Simulator } from "./simulator.ts";
import { Trace } from "./trace.ts";

/** What the simulator drives: RaftNode's public surface, so that a test can hand in a wrapped or broken core. */
export type SimNode = Pick<
  RaftNode,
  | "tick"
  | "step"
  | "propose"
  | "readIndex"
  | "campaign"
  | "stepDown"
  | "transferLeadership"
  | "hasReady"
  | "ready"
  | "advance"
  | "status"
  | "logEntries"
  | "logEntry"
  | "logTerm"
  | "stableIndex"
  | "compact"
  | "membership"
  | "membershipAt"
  | "proposeMembership"
  | "followers"
  | "checkInvariants"
>;

/** Builds the node of one server at start and at each restart. */
export type NodeFactory = (options: RaftNodeOptions) => SimNode;

export const realNodeFactory: NodeFactory = (options) => new RaftNode(options);

/** The timing and limits of every node's RaftConfig (id and peers come from the cluster). */
export type SimRaftSettings = Omit<RaftConfig, "id" | "peers">;

/**
 * What the simulator runs unless told otherwise: the core's defaults with
 * the election guards a production server runs with (dissertation §9.6
 * PreVote, §6.2 CheckQuorum and §4.2.3 stickiness, the timer started at the
 * first tick).
 */
export const simRaftDefaults: SimRaftSettings = { ...raftConfigDefaults, preVote: true, checkQuorum: true, electionTimerFromFirstTick: true };

/**
 * When the simulated runtime snapshots a server's state machine and compacts
 * its log (dissertation §5.1): each server on its own, as a real one does.
 */
export interface SnapshotPolicy {
  /** A server takes a snapshot once it applied this many entries past its last one. */
  readonly everyEntries: number;
  /** Entries kept below the snapshot when the log is compacted, for followers only a little behind. */
  readonly marginEntries: number;
  /**
   * The state machine's image is cut into 1 to this many chunks at random
   * points (one InstallSnapshot each); the core's chunk, the configuration,
   * goes before them.
   */
  readonly chunksMax: number;
}

/**
 * Where a server may crash in the middle of handling a Ready or taking a
 * snapshot, for the fault injector:
 * - "before-save": a leader's AppendEntries left ahead of its own save of
 *   their entries (as the runtime sends them, dissertation §10.2.1);
 * - "after-install-save": a leader's snapshot, installed in place of the log,
 *   is stored, but the state machine is not restored from it yet and the
 *   leader has not been told;
 * - "after-snapshot-save": a snapshot the server took is stored, its log not
 *   compacted yet.
 */
export type CrashPoint = "before-save" | "after-install-save" | "after-snapshot-save";

/** What the snapshots of a run came to, for the fuzzer's figures. */
export interface SnapshotStats {
  /** Snapshots servers took of their own state machines. */
  taken: number;
  /** Leaders' snapshots followers installed in place of their logs. */
  installed: number;
  /** Starts that restored the state machine from a stored snapshot. */
  restoredAtStart: number;
}

export interface SimClusterOptions {
  readonly seed: number;
  /** The number of servers at the start, the voters of the seed configuration; their ids are 1..size. */
  readonly size: number;
  readonly raft?: Partial<SimRaftSettings>;
  /** Each running node is ticked this often, in virtual ms. */
  readonly tickMs?: number;
  /** Trace records kept in the ring buffer. */
  readonly traceCapacity?: number;
  /** Trace lines printed with a violation. */
  readonly traceTailLines?: number;
  /** How to replay this run, printed with a violation; null when the run is not a fuzz seed. */
  readonly replayCommand?: string | null;
  readonly createNode?: NodeFactory;
  /** When servers snapshot and compact on their own; null (the default) for never, or only when a scenario says (takeSnapshot). */
  readonly snapshots?: SnapshotPolicy | null;
}

/** A handler of each Ready a node produced, for scenarios that count appends, reads and messages. */
export type ReadyObserver = (id: NodeId, ready: Ready) => void;

type SimEvent =
  | { readonly kind: "tick"; readonly id: NodeId; readonly incarnation: number }
  | { readonly kind: "deliver"; readonly message: Message }
  | { readonly kind: "call"; readonly run: () => void };

/** Every how many events the checkers compare whole logs, not just their ends. */
const fullCheckEveryEvents = 1024;

/**
 * The configuration a server joining a running cluster starts with, at
 * every start until it stores a snapshot (as a server run with --join):
 * no voters, so that it never campaigns; the leader that adds it brings the
 * configuration (dissertation §4.2.1).
 */
const noConfiguration: Membership = { voters: [], learners: [], context: "" };

/** One simulated server: its disk survives crashes, everything else is rebuilt at restart. */
class SimServer {
  node: SimNode | null = null;
  /** Bumped at each crash, so that ticks scheduled for an earlier life are ignored. */
  incarnation = 0;
  readonly storage = new MemoryStorage();
  /** A mirror of what `storage` holds, kept to check the log without copying it on every event. */
  durable = new DurableLog();
  durableCommitIndex = 0;
  /** The hard state of the last save: a leader's AppendEntries leave before a save that keeps its term and vote (splitAtSave). */
  savedHardState: HardState = emptyHardState;
  /** Volatile, as in a real server: rebuilt at each start from the stored snapshot and the committed log after it. */
  stateMachine = new SimStateMachine();

  constructor(
    readonly id: NodeId,
    /** It joined the running cluster (addServer), in no configuration it knew of. */
    readonly joined: boolean,
  ) {}
}

/**
 * A cluster of Raft nodes on a simulated network and clock. Every node keeps
 * its log, hard state and snapshot in a MemoryStorage that survives crashes.
 * After every event the touched node's Ready loop is drained (persist, send,
 * restore and apply, advance: the order of src/raft/ready.ts), the safety
 * checkers run, and the node snapshots its state machine and compacts its
 * log when its snapshot policy says so (dissertation ch. 5).
 */
export class SimCluster {
  readonly seed: number;
  /** The configuration at the log's start: the servers of the start, all voters. */
  readonly seedMembership: Membership;
  /** The one source of randomness of the run: network faults, node seeds and the models all draw from it. */
  readonly random: SeededRandom;
  readonly trace: Trace;
  readonly network: SimNetwork;
  readonly checker: SafetyChecker;
  readonly reads: ReadIndexChecker;
  readonly elections: ElectionChecker;
  readonly settings: SimRaftSettings;
  private readonly simulator: Simulator<SimEvent>;
  private readonly servers = new Map<NodeId, SimServer>();
  private readonly serverIds: NodeId[] = [];
  private readonly tickMs: number;
  private readonly traceTailLines: number;
  private readonly replayCommand: string | null;
  private readonly createNode: NodeFactory;
  private readonly readyObservers = new Set<ReadyObserver>();
  private readonly snapshotPolicy: SnapshotPolicy | null;
  readonly snapshotStats: SnapshotStats = { taken: 0, installed: 0, restoredAtStart: 0 };
  readonly membershipRules: MembershipChecker;
  /** Asked at each crash point a server reaches: true crashes it there. Set by the fault injector and by scenarios. */
  crashAt: ((id: NodeId, point: CrashPoint) => boolean) | null = null;

  constructor(options: SimClusterOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`cluster size must be a positive integer, got ${options.size}`);
    this.seed = options.seed;
    this.seedMembership = { voters: Array.from({ length: options.size }, (_, i) => i + 1), learners: [], context: "" };
    this.random = new SeededRandom(options.seed);
    this.trace = new Trace(options.traceCapacity ?? 4096);
    this.traceTailLines = options.traceTailLines ?? 60;
    this.replayCommand = options.replayCommand ?? null;
    this.tickMs = options.tickMs ?? 10;
    this.settings = { ...simRaftDefaults, ...options.raft };
    this.createNode = options.createNode ?? realNodeFactory;
    this.snapshotPolicy = options.snapshots ?? null;
    this.checker = new SafetyChecker((checker, details) => this.fail(checker, details));
    this.reads = new ReadIndexChecker((checker, details) => this.fail(checker, details));
    this.membershipRules = new MembershipChecker(this.seedMembership, this.checker, (checker, details) => this.fail(checker, details));
    this.elections = new ElectionChecker(this.settings, (checker, details) => this.fail(checker, details));
    this.simulator = new Simulator((event) => this.handle(event));
    this.network = new SimNetwork(this.random, {
      deliverAfter: (delayMs, message) => this.simulator.schedule(delayMs, { kind: "deliver", message }),
      lost: (message, fate) => this.trace.add({ kind: "message", atMs: this.nowMs, message, fate }),
    });
    for (const id of this.seedMembership.voters) this.add(new SimServer(id, false));
  }

  get nowMs(): number {
    return this.simulator.nowMs;
  }

  get eventCount(): number {
    return this.simulator.eventCount;
  }

  /** Every server there is: those of the start, and those that joined since (members or not), in order. */
  get ids(): readonly NodeId[] {
    return this.serverIds;
  }

  private add(server: SimServer): void {
    this.servers.set(server.id, server);
    this.serverIds.push(server.id);
    this.start(server);
  }

  /**
   * Starts a new server, with the next id, that joins the running cluster
   * (dissertation §4.2.1): it knows no configuration and stands for no
   * election until a leader adds it. Returns its id.
   */
  addServer(): NodeId {
    const id = this.serverIds.length + 1;
    this.add(new SimServer(id, true));
    this.trace.note(this.nowMs, `node ${id} joins, knowing no configuration`);
    return id;
  }

  // ---- inspection ---------------------------------------------------------

  /** What server `id` holds on disk, for the checkers. */
  private readonly disk = (id: NodeId): ServerDisk => this.server(id);

  private server(id: NodeId): SimServer {
    const server = this.servers.get(id);
    if (server === undefined) throw new RangeError(`no server ${id} in this cluster (ids ${this.ids.join(",")})`);
    return server;
  }

  isUp(id: NodeId): boolean {
    return this.server(id).node !== null;
  }

  /** The running node of server `id`, or null while it is down. */
  node(id: NodeId): SimNode | null {
    return this.server(id).node;
  }

  status(id: NodeId): NodeStatus | null {
    return this.server(id).node?.status() ?? null;
  }

  /** What server `id` holds on disk (it survives crashes). */
  durableLog(id: NodeId): DurableLog {
    return this.server(id).durable;
  }

  /** The index of the last entry server `id` has applied (or restored from a snapshot) since it last started. */
  lastApplied(id: NodeId): number {
    return this.server(id).stateMachine.lastApplied;
  }

  /** The key-value state machine of server `id`, fed every entry it applies. */
  stateMachine(id: NodeId): KvStore {
    return this.server(id).stateMachine.kv;
  }

  /**
   * Replicas among `ids` (every server by default) that applied the same
   * prefix of the log must hold the same key-value state, sessions included
   * (the state machine is deterministic). A server a configuration change
   * removed stops short of the others: it is left out.
   */
  checkStateMachinesAgree(ids: readonly NodeId[] = this.ids): void {
    const running = ids.map((id) => this.server(id)).filter((server) => server.node !== null);
    const first = running[0];
    if (first === undefined) return;
    const state = ({ stateMachine }: SimServer): unknown => [stateMachine.kv.list(), [...stateMachine.kv.sessionRecords()], stateMachine.hash];
    const expected = state(first);
    const applied = first.stateMachine.lastApplied;
    for (const server of running) {
      if (server.stateMachine.lastApplied !== applied) this.fail("state machine safety", `nodes ${first.id} and ${server.id} have not applied the same entries`);
      if (!isDeepStrictEqual(state(server), expected)) {
        this.fail("state machine safety", `nodes ${first.id} and ${server.id} applied the same ${applied} entries but hold different key-value states`);
      }
    }
  }

  /**
   * The configuration in force at the running leader of the highest term
   * (the latest in its log, dissertation §4.1), or null when none leads.
   */
  configuration(): Membership | null {
    const leader = this.leader();
    return leader === null ? null : this.server(leader).node!.membership();
  }

  /** The running leader of the highest term, if any. */
  leader(): NodeId | null {
    let best: NodeStatus | null = null;
    for (const server of this.servers.values()) {
      const status = server.node?.status();
      if (status?.role === "leader" && (best === null || status.term > best.term)) best = status;
    }
    return best?.id ?? null;
  }

  /** One line per server, for failure reports. */
  describeServers(): string[] {
    return this.ids.map((id) => {
      const status = this.status(id);
      const durable = this.durableLog(id);
      if (status === null) return `node ${id}: down (entries ${durable.start.index + 1} to ${durable.lastIndex} on disk, snapshot at ${durable.snapshot?.meta.index ?? 0})`;
      const { voters, learners } = this.server(id).node!.membership();
      return (
        `node ${id}: ${status.role} term=${status.term} leader=${status.leaderId ?? "-"} voted=${status.votedFor ?? "-"} ` +
        `start=${status.logStartIndex} snapshot=${status.snapshotIndex} last=(${status.lastLogIndex},${status.lastLogTerm}) commit=${status.commitIndex} applied=${status.lastApplied} ` +
        `voters=${voters.join(",") || "none"}${learners.length === 0 ? "" : ` learners=${learners.join(",")}`}`
      );
    });
  }

  /** Throws the SimulationViolation for this run. */
  fail(checker: CheckerName, details: string, cause?: unknown): never {
    throw new SimulationViolation(
      this.seed,
      checker,
      details,
      this.nowMs,
      this.trace.tail(this.traceTailLines),
      this.replayCommand,
      cause === undefined ? undefined : { cause },
    );
  }

  observeReady(observer: ReadyObserver): () => void {
    this.readyObservers.add(observer);
    return () => {
      this.readyObservers.delete(observer);
    };
  }

  // ---- time ---------------------------------------------------------------

  /** Runs `run` `delayMs` from now, as an event of the run (the checkers follow it). */
  schedule(delayMs: number, run: () => void): void {
    this.simulator.schedule(delayMs, { kind: "call", run });
  }

  runFor(durationMs: number): void {
    this.simulator.runUntil(this.nowMs + durationMs);
  }

  /** Runs until `done()` holds or `timeoutMs` of virtual time pass; returns whether it held. */
  runUntil(done: () => boolean, timeoutMs: number): boolean {
    return this.simulator.runUntilTrue(done, this.nowMs + timeoutMs);
  }

  // ---- faults -------------------------------------------------------------

  /** Stops server `id`: its node and everything volatile are lost; its disk is kept. */
  crash(id: NodeId): void {
    const server = this.server(id);
    if (server.node === null) throw new Error(`crash: node ${id} is already down`);
    server.node = null;
    server.incarnation++;
    this.checker.forgetVolatile(id);
    this.reads.forgetNode(id);
    this.trace.note(this.nowMs, `node ${id} crashed`);
  }

  /**
   * Starts server `id` again from what its disk holds. Its first tick comes
   * within one tick interval, or `firstTickAfterMs` later (a runtime that
   * takes long to replay its log before it ticks).
   */
  restart(id: NodeId, firstTickAfterMs?: number): void {
    const server = this.server(id);
    if (server.node !== null) throw new Error(`restart: node ${id} is up`);
    this.start(server, firstTickAfterMs);
    this.guard(id, () => this.settle(server));
  }

  private start(server: SimServer, firstTickAfterMs?: number): void {
    // The node gets the log's tail and reads the rest from storage, as a server does (docs/architecture.md §2).
    const { hardState, entries, logStart, snapshot } = server.storage.loadSync(this.settings.logTailBytesMax);
    server.durable = new DurableLog();
    server.durable.start = logStart;
    server.durable.entries = server.storage.loadSync().entries.slice();
    server.durableCommitIndex = hardState.commitIndex;
    server.savedHardState = hardState;
    server.stateMachine = new SimStateMachine();
    // Dissertation §5.1: the state machine starts from the stored snapshot, and the node applies what follows it,
    // from the configuration the snapshot keeps; without one, from the seed's, or from none when joining (ch. 4).
    const stored = server.storage.readSnapshot();
    const restored = stored === null ? undefined : this.guard(server.id, () => this.restoreStored(server, stored));
    const membership = restored ?? (server.joined ? noConfiguration : undefined);
    this.elections.started(server.id);
    // The servers of its config file: a joining server's lists itself besides those of the start.
    const seed = this.seedMembership.voters;
    const config: RaftConfig = { ...this.settings, id: server.id, peers: server.joined ? [...seed, server.id] : seed };
    server.node = this.guard(server.id, () =>
      this.createNode({
        config,
        hardState,
        entries,
        storage: server.storage,
        logStart,
        snapshot,
        membership,
        snapshotProblem: simSnapshotProblem,
        nowMs: this.nowMs,
        random: new SeededRandom(this.random.intBetween(0, 0xffffffff)),
        logger: this.coreLogger(server.id),
      }),
    );
    this.trace.note(
      this.nowMs,
      `node ${server.id} started: term=${hardState.currentTerm} voted=${hardState.votedFor ?? "-"} commit=${hardState.commitIndex} ` +
        `snapshot=(${snapshot.index},${snapshot.term}) log after ${logStart.index}, ${entries.length} entries given`,
    );
    const firstTickMs = firstTickAfterMs ?? this.random.intBetween(1, this.tickMs);
    this.simulator.schedule(firstTickMs, { kind: "tick", id: server.id, incarnation: server.incarnation });
  }

  /**
   * Restores the state machine from the stored snapshot at start-up, and
   * returns the configuration its first chunk keeps: the log that held it
   * is gone (dissertation §5.1), and the node starts from it.
   */
  private restoreStored(server: SimServer, stored: StoredSnapshot): Membership {
    const membership = snapshotMembership(stored.chunks());
    if (typeof membership === "string") throw new Error(`the stored snapshot at ${stored.meta.index}: ${membership}`);
    const imageIndex = server.stateMachine.restore(stateChunksOf(stored.chunks()));
    this.checker.checkRestored(server.id, stored.meta, imageIndex, server.stateMachine.hash, null);
    server.durable.snapshot = { meta: stored.meta, hash: server.stateMachine.hash };
    this.snapshotStats.restoredAtStart++;
    return membership;
  }

  private coreLogger(id: NodeId): Logger {
    const note = (message: string): void => this.trace.note(this.nowMs, `node ${id}: ${message}`);
    return { debug: () => {}, info: note, warn: note, error: note };
  }

  // ---- client-facing ------------------------------------------------------

  /** Proposes `data` at node `id` (which must be up) and handles the resulting Ready at once. */
  propose(id: NodeId, data: Uint8Array): ProposeResult {
    return this.withNode(id, (node) => {
      const before = node.status();
      const result = node.propose(data);
      this.elections.proposed(id, before, result);
      return result;
    });
  }

  /**
   * Proposes a single-server configuration change at node `id` (which must
   * be up), as an operator's add or remove reaches the leader, and handles
   * the resulting Ready at once. The outcome goes in the trace.
   */
  proposeMembership(id: NodeId, change: MembershipChange): ReturnType<SimNode["proposeMembership"]> {
    const result = this.withNode(id, (node) => {
      const before = node.status();
      const result = node.proposeMembership(change);
      this.elections.proposed(id, before, result);
      return result;
    });
    const outcome = result.ok ? `appended at (${result.index},${result.term})` : `refused: ${result.reason === "refused" ? result.problem : result.reason}`;
    this.trace.note(this.nowMs, `membership: ${change.kind} ${change.id} at node ${id}, ${outcome}`);
    return result;
  }

  /**
   * Asks node `id` (which must be up) for a ReadIndex read. Returns the read's
   * context, whose ReadState comes in a later Ready (see observeReady), or
   * null when the node refused (not leader). The read checker follows it.
   */
  readIndex(id: NodeId): number | null {
    const context = this.reads.register(id, this.checker.committedIndex, this.nowMs);
    if (this.withNode(id, (node) => node.readIndex(context))) return context;
    this.reads.cancel(context);
    return null;
  }

  /**
   * Calls `use` on the running node of server `id` within one turn, then
   * handles its Ready loop and runs the checkers: what a runtime does after
   * any input.
   */
  withNode<T>(id: NodeId, use: (node: SimNode) => T): T {
    const server = this.server(id);
    const node = server.node;
    if (node === null) throw new Error(`node ${id} is down`);
    return this.guard(id, () => {
      const result = use(node);
      this.settle(server);
      return result;
    });
  }

  // ---- snapshots ----------------------------------------------------------

  /**
   * Server `id` (which must be up) snapshots its state machine now, in
   * `chunks` chunks after the core's, and compacts its log through `marginEntries` below it
   * (dissertation §5.1), as the snapshot policy does on its own. Returns the
   * snapshot, or null when the server applied nothing past its last one or
   * its last applied entry is not durable yet.
   */
  takeSnapshot(id: NodeId, { marginEntries = 0, chunks = 1 }: { readonly marginEntries?: number; readonly chunks?: number } = {}): SnapshotMeta | null {
    const server = this.server(id);
    return this.withNode(id, (node) => this.snapshotNow(server, node, marginEntries, chunks));
  }

  // ---- the event loop -----------------------------------------------------

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case "tick": {
        const server = this.server(event.id);
        if (server.node === null || server.incarnation !== event.incarnation) return;
        this.simulator.schedule(this.tickMs, event);
        const node = server.node;
        this.elections.ticked(server.id, this.nowMs);
        this.guard(server.id, () => {
          node.tick(this.nowMs);
          this.settle(server);
        });
        return;
      }
      case "deliver": {
        const message = event.message;
        const server = this.servers.get(message.to);
        if (server?.node == null) {
          this.trace.add({ kind: "message", atMs: this.nowMs, message, fate: "receiver down" });
          return;
        }
        if (!this.network.arrives(message)) {
          this.trace.add({ kind: "message", atMs: this.nowMs, message, fate: "cut by partition" });
          return;
        }
        this.trace.add({ kind: "message", atMs: this.nowMs, message, fate: "delivered" });
        const node = server.node;
        this.guard(server.id, () => {
          const before = node.status();
          node.step(message);
          this.settle(server);
          this.elections.stepped(message, before, node.status());
        });
        return;
      }
      case "call":
        event.run();
        for (const server of this.servers.values()) if (server.node !== null) this.guard(server.id, () => this.settle(server));
        return;
      default:
        assertNever(event, "simulator event");
    }
  }

  /** Turns anything a node throws (a failed assertion in the core) into a violation with the seed and the trace. */
  private guard<T>(id: NodeId, run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof SimulationViolation) throw error;
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      return this.fail("node invariants", `node ${id} threw: ${text}`, error);
    }
  }

  /**
   * Drains the node's Ready loop and checks it; then takes a snapshot if the
   * policy says one is due, and checks again. The checkers see every commit
   * before a snapshot can compact it away.
   */
  private settle(server: SimServer): void {
    const node = server.node;
    if (node === null) return;
    while (node.hasReady()) {
      if (!this.handleReady(server, node, node.ready())) return;
    }
    this.check(server, node);
    const policy = this.snapshotPolicy;
    if (policy === null || server.stateMachine.lastApplied - node.status().snapshotIndex < policy.everyEntries || !this.maySnapshot(server, node)) return;
    this.snapshotNow(server, node, policy.marginEntries, this.random.intBetween(1, policy.chunksMax));
    if (server.node === node) this.check(server, node);
  }

  /**
   * Whether the server has something new to snapshot that it may: only
   * applied entries go into an image, and only durable ones may leave the
   * log (storage must still hold what it has not compacted), so nothing is
   * taken while the last applied entry is not stored yet. A server that
   * joined knows no configuration before the leader's entries bring one,
   * and a snapshot keeps the configuration at its index (§5.1): it takes
   * none there, as the runtime does.
   */
  private maySnapshot(server: SimServer, node: SimNode): boolean {
    const index = server.stateMachine.lastApplied;
    return index > node.status().snapshotIndex && index <= node.stableIndex() && node.membershipAt(index).voters.length > 0;
  }

  private check(server: SimServer, node: SimNode): void {
    node.checkInvariants();
    const status = node.status();
    this.checker.checkNode(status, node, server.durable.snapshot);
    if (status.role === "leader") this.checker.checkMatchIndexes(status, node, node.followers(), this.disk);
    this.membershipRules.checkCommit(status, node.logTerm(status.commitIndex), this.disk);
    this.checker.checkLogPersisted(status, node, server.durable, this.eventCount % fullCheckEveryEvents === 0);
  }

  /**
   * The runtime's side of log compaction (dissertation §5.1): a snapshot of
   * the state machine at what it applied, stored, then the log compacted
   * through `marginEntries` below it, in the core and then in storage. A
   * crash may come right after the snapshot is stored, before compaction.
   * Returns the snapshot, or null when none may be taken (maySnapshot).
   */
  private snapshotNow(server: SimServer, node: SimNode, marginEntries: number, chunks: number): SnapshotMeta | null {
    if (!this.maySnapshot(server, node)) return null;
    const machine = server.stateMachine;
    const index = machine.lastApplied;
    const status = node.status();
    const meta: SnapshotMeta = { index, term: node.logTerm(index)! };
    const image = machine.snapshot(this.random, chunks);
    // The core's chunk first: the configuration at the snapshot's index (dissertation §5.1), as the runtime stores it.
    server.storage.saveSnapshotSync(meta, snapshotImage(node.membershipAt(index), image));
    server.durable.snapshot = { meta, hash: imageSummary(image).hash };
    this.snapshotStats.taken++;
    if (this.crashAt?.(server.id, "after-snapshot-save") === true) {
      this.crash(server.id);
      return meta;
    }
    const through = Math.max(status.logStartIndex, index - marginEntries);
    node.compact(meta, through);
    server.storage.compactSync(through);
    server.durable.compact(through);
    this.trace.note(this.nowMs, `node ${server.id} took a snapshot at (${meta.index},${meta.term}) and compacted its log through ${through}`);
    return meta;
  }

  /**
   * Step 3 of the rule: the state machine restored from an installed
   * snapshot, then the committed entries applied, with the reads they make
   * servable.
   */
  private apply(server: SimServer, status: NodeStatus, ready: Ready): void {
    const machine = server.stateMachine;
    if (ready.snapshot !== null) {
      const appliedBefore = machine.lastApplied;
      const imageIndex = machine.restore(stateChunksOf(ready.snapshot.chunks));
      this.checker.checkRestored(server.id, ready.snapshot.meta, imageIndex, machine.hash, appliedBefore);
    }
    for (const entry of ready.committedEntries) {
      this.checker.checkApplied(server.id, entry, machine.lastApplied + 1, status.commitIndex);
      machine.apply(entry);
      this.checker.checkHistory(server.id, entry.index, machine.hash, "applied");
    }
    this.reads.check(server.id, ready.readStates, ready.droppedReads);
  }

  /** Sends what server `server` (in state `status`) sends, once the election rules are checked. */
  private sendAll(server: SimServer, status: NodeStatus, messages: readonly Message[]): void {
    this.elections.sent(server.id, messages, this.nowMs);
    this.membershipRules.checkSent(status, messages);
    for (const message of messages) this.network.send(message);
  }

  /**
   * The persistence rule of src/raft/ready.ts as the runtime carries it out:
   * a leader's AppendEntries first when the term and vote on disk stay as
   * they are, and then the committed entries applied (appliesBeforeSave),
   * then persist (an installed snapshot, the hard state and the entries in
   * one save), send the rest, restore and apply (if not yet), advance. False
   * when the server crashed at a crash point (and nothing after it happened).
   */
  private handleReady(server: SimServer, node: SimNode, ready: Ready): boolean {
    const status = node.status();
    const hardState = ready.hardState;
    const { beforeSave, afterSave } = splitAtSave(ready, server.savedHardState);
    const applyFirst = appliesBeforeSave(ready, server.savedHardState);
    this.sendAll(server, status, beforeSave);
    if (applyFirst) this.apply(server, status, ready);
    if (beforeSave.length > 0 && ready.entries.length > 0 && this.crashAt?.(server.id, "before-save") === true) {
      this.crash(server.id);
      return false;
    }
    // The write is checked before storage takes it: storage refuses some broken writes itself, and the checkers say
    // which property such a write breaks.
    const received = ready.snapshot;
    if (received !== null) {
      server.durable.restore({ meta: received.meta, hash: imageSummary(stateChunksOf(received.chunks)).hash });
      this.snapshotStats.installed++;
      this.trace.note(this.nowMs, `node ${server.id} stores the snapshot at (${received.meta.index},${received.meta.term}) in place of its log`);
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      const previousLastIndex = server.durable.lastIndex;
      server.durable.append(ready.entries);
      this.checker.checkPersisted(server.id, status.role, status.term, previousLastIndex, server.durable, first.index, ready.entries.length);
      this.membershipRules.checkPersisted(status, server.durable, ready.entries);
    }
    server.storage.saveSync(ready.hardState, ready.entries, received ?? undefined);
    if (hardState !== null) server.savedHardState = hardState;
    if (received !== null && this.crashAt?.(server.id, "after-install-save") === true) {
      this.crash(server.id);
      return false;
    }
    if (ready.softState !== null) {
      this.trace.note(this.nowMs, `node ${server.id} is ${ready.softState.role} in term ${status.term}, leader ${ready.softState.leaderId ?? "unknown"}`);
    }
    if (ready.hardState !== null && ready.hardState.commitIndex !== server.durableCommitIndex) {
      server.durableCommitIndex = ready.hardState.commitIndex;
      this.trace.add({ kind: "commit", atMs: this.nowMs, node: server.id, commitIndex: server.durableCommitIndex });
    }
    this.sendAll(server, status, afterSave);
    if (!applyFirst) this.apply(server, status, ready);
    for (const observer of this.readyObservers) observer(server.id, ready);
    node.advance(ready);
    return true;
  }
}
