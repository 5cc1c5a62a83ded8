import { assertNever } from "../../src/base/assert.ts";
import type { Logger } from "../../src/base/logger.ts";
import {
  RaftNode,
  emptyHardState,
  appliesBeforeSave,
  splitAtSave,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type NodeStatus,
  type ProposeResult,
  type RaftConfig,
  type RaftNodeOptions,
  type Ready,
  raftConfigDefaults,
  SeededRandom,
} from "../../src/raft/index.ts";
import { isDeepStrictEqual } from "node:util";
import { KvStore } from "../../src/kv/kv-store.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { type CheckerName, ReadIndexChecker, SafetyChecker, SimulationViolation } from "./checkers.ts";
import { ElectionChecker } from "./election-checker.ts";
import { SimNetwork } from "./sim-network.ts";
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

export interface SimClusterOptions {
  readonly seed: number;
  /** The number of servers; their ids are 1..size. */
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
}

/** A handler of each Ready a node produced, for scenarios that count appends, reads and messages. */
export type ReadyObserver = (id: NodeId, ready: Ready) => void;

type SimEvent =
  | { readonly kind: "tick"; readonly id: NodeId; readonly incarnation: number }
  | { readonly kind: "deliver"; readonly message: Message }
  | { readonly kind: "call"; readonly run: () => void };

/** Every how many events the checkers compare whole logs, not just their ends. */
const fullCheckEveryEvents = 1024;

/** One simulated server: its disk survives crashes, everything else is rebuilt at restart. */
class SimServer {
  node: SimNode | null = null;
  /** Bumped at each crash, so that ticks scheduled for an earlier life are ignored. */
  incarnation = 0;
  readonly storage = new MemoryStorage();
  /** A mirror of what `storage` holds, kept to check the log without copying it on every event. */
  durableLog: Entry[] = [];
  durableCommitIndex = 0;
  /** The hard state of the last save: a leader's AppendEntries leave before a save that keeps its term and vote (splitAtSave). */
  savedHardState: HardState = emptyHardState;
  lastApplied = 0;
  /** Volatile, as in a real server: rebuilt at each start by re-applying the committed log. */
  stateMachine = new KvStore();

  constructor(readonly id: NodeId) {}
}

/**
 * A cluster of Raft nodes on a simulated network and clock. Every node keeps
 * its log and hard state in a MemoryStorage that survives crashes. After every
 * event the touched node's Ready loop is drained (persist, send, apply,
 * advance: the order of src/raft/ready.ts) and the safety checkers run.
 */
export class SimCluster {
  readonly seed: number;
  readonly ids: readonly NodeId[];
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
  private readonly tickMs: number;
  private readonly traceTailLines: number;
  private readonly replayCommand: string | null;
  private readonly createNode: NodeFactory;
  private readonly readyObservers = new Set<ReadyObserver>();
  /**
   * Asked when a leader's AppendEntries have left ahead of its own save of
   * their entries (as the runtime sends them, dissertation §10.2.1): true
   * crashes the server there, before the save. Set by the fault injector.
   */
  crashBeforeSave: ((id: NodeId) => boolean) | null = null;

  constructor(options: SimClusterOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`cluster size must be a positive integer, got ${options.size}`);
    this.seed = options.seed;
    this.ids = Array.from({ length: options.size }, (_, i) => i + 1);
    this.random = new SeededRandom(options.seed);
    this.trace = new Trace(options.traceCapacity ?? 4096);
    this.traceTailLines = options.traceTailLines ?? 60;
    this.replayCommand = options.replayCommand ?? null;
    this.tickMs = options.tickMs ?? 10;
    this.settings = { ...simRaftDefaults, ...options.raft };
    this.createNode = options.createNode ?? realNodeFactory;
    this.checker = new SafetyChecker((checker, details) => this.fail(checker, details));
    this.reads = new ReadIndexChecker((checker, details) => this.fail(checker, details));
    this.elections = new ElectionChecker(this.settings, (checker, details) => this.fail(checker, details));
    this.simulator = new Simulator((event) => this.handle(event));
    this.network = new SimNetwork(this.random, {
      deliverAfter: (delayMs, message) => this.simulator.schedule(delayMs, { kind: "deliver", message }),
      lost: (message, fate) => this.trace.add({ kind: "message", atMs: this.nowMs, message, fate }),
    });
    for (const id of this.ids) {
      const server = new SimServer(id);
      this.servers.set(id, server);
      this.start(server);
    }
  }

  get nowMs(): number {
    return this.simulator.nowMs;
  }

  get eventCount(): number {
    return this.simulator.eventCount;
  }

  // ---- inspection ---------------------------------------------------------

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
  durableLog(id: NodeId): readonly Entry[] {
    return this.server(id).durableLog;
  }

  /** The index of the last entry server `id` has applied since it last started. */
  lastApplied(id: NodeId): number {
    return this.server(id).lastApplied;
  }

  /** The key-value state machine of server `id`, fed every entry it applies. */
  stateMachine(id: NodeId): KvStore {
    return this.server(id).stateMachine;
  }

  /**
   * Replicas that applied the same prefix of the log must hold the same
   * key-value state, sessions included (the state machine is deterministic).
   */
  checkStateMachinesAgree(): void {
    const running = [...this.servers.values()].filter((server) => server.node !== null);
    const first = running[0];
    if (first === undefined) return;
    const snapshot = (server: SimServer): unknown => [server.stateMachine.list(), [...server.stateMachine.sessionRecords()]];
    const expected = snapshot(first);
    for (const server of running) {
      if (server.lastApplied !== first.lastApplied) this.fail("state machine safety", `nodes ${first.id} and ${server.id} have not applied the same entries`);
      if (!isDeepStrictEqual(snapshot(server), expected)) {
        this.fail("state machine safety", `nodes ${first.id} and ${server.id} applied the same ${first.lastApplied} entries but hold different key-value states`);
      }
    }
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
      if (status === null) return `node ${id}: down (${this.durableLog(id).length} entries on disk)`;
      return (
        `node ${id}: ${status.role} term=${status.term} leader=${status.leaderId ?? "-"} voted=${status.votedFor ?? "-"} ` +
        `last=(${status.lastLogIndex},${status.lastLogTerm}) commit=${status.commitIndex} applied=${status.lastApplied}`
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
    const { hardState, entries } = server.storage.loadSync(this.settings.logTailBytesMax);
    server.durableLog = server.storage.loadSync().entries.slice();
    server.durableCommitIndex = hardState.commitIndex;
    server.savedHardState = hardState;
    server.lastApplied = 0;
    server.stateMachine = new KvStore();
    this.elections.started(server.id);
    const config: RaftConfig = { ...this.settings, id: server.id, peers: this.ids };
    server.node = this.guard(server.id, () =>
      this.createNode({
        config,
        hardState,
        entries,
        storage: server.storage,
        nowMs: this.nowMs,
        random: new SeededRandom(this.random.intBetween(0, 0xffffffff)),
        logger: this.coreLogger(server.id),
      }),
    );
    this.trace.note(
      this.nowMs,
      `node ${server.id} started: term=${hardState.currentTerm} voted=${hardState.votedFor ?? "-"} commit=${hardState.commitIndex} entries=${entries.length}`,
    );
    const firstTickMs = firstTickAfterMs ?? this.random.intBetween(1, this.tickMs);
    this.simulator.schedule(firstTickMs, { kind: "tick", id: server.id, incarnation: server.incarnation });
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

  /** Drains the node's Ready loop, then checks it. */
  private settle(server: SimServer): void {
    const node = server.node;
    if (node === null) return;
    while (node.hasReady()) {
      if (!this.handleReady(server, node, node.ready())) return;
    }
    node.checkInvariants();
    const status = node.status();
    this.checker.checkNode(status, node);
    this.checker.checkLogPersisted(status, node, server.durableLog, this.eventCount % fullCheckEveryEvents === 0);
  }

  /**
   * The persistence rule of src/raft/ready.ts as the runtime carries it out:
   * a leader's AppendEntries first when the term and vote on disk stay as
   * they are, and then the committed entries applied (appliesBeforeSave),
   * then persist, send the rest, apply (if not yet), advance. False when the
   * server crashed before its save (and nothing after the early sends happened).
   */
  /** Step 3 of the rule: the committed entries to the state machine, with the reads they make servable. */
  private apply(server: SimServer, status: NodeStatus, ready: Ready): void {
    for (const entry of ready.committedEntries) {
      this.checker.checkApplied(server.id, entry, server.lastApplied + 1, status.commitIndex);
      server.stateMachine.apply(entry);
      server.lastApplied = entry.index;
    }
    this.reads.check(server.id, ready.readStates, ready.droppedReads);
  }

  private handleReady(server: SimServer, node: SimNode, ready: Ready): boolean {
    const status = node.status();
    const hardState = ready.hardState;
    const { beforeSave, afterSave } = splitAtSave(ready, server.savedHardState);
    const applyFirst = appliesBeforeSave(ready, server.savedHardState);
    this.elections.sent(server.id, beforeSave, this.nowMs);
    for (const message of beforeSave) this.network.send(message);
    if (applyFirst) this.apply(server, status, ready);
    if (beforeSave.length > 0 && ready.entries.length > 0 && this.crashBeforeSave?.(server.id) === true) {
      this.crash(server.id);
      return false;
    }
    server.storage.saveSync(ready.hardState, ready.entries);
    if (hardState !== null) server.savedHardState = hardState;
    const first = ready.entries[0];
    if (first !== undefined) {
      const previousLength = server.durableLog.length;
      server.durableLog.length = Math.min(previousLength, first.index - 1);
      for (const entry of ready.entries) server.durableLog.push(entry);
      this.checker.checkPersisted(server.id, status.role, status.term, previousLength, server.durableLog, first.index, ready.entries.length);
    }
    if (ready.softState !== null) {
      this.trace.note(this.nowMs, `node ${server.id} is ${ready.softState.role} in term ${status.term}, leader ${ready.softState.leaderId ?? "unknown"}`);
    }
    if (ready.hardState !== null && ready.hardState.commitIndex !== server.durableCommitIndex) {
      server.durableCommitIndex = ready.hardState.commitIndex;
      this.trace.add({ kind: "commit", atMs: this.nowMs, node: server.id, commitIndex: server.durableCommitIndex });
    }
    this.elections.sent(server.id, afterSave, this.nowMs);
    for (const message of afterSave) this.network.send(message);
    if (!applyFirst) this.apply(server, status, ready);
    for (const observer of this.readyObservers) observer(server.id, ready);
    node.advance(ready);
    return true;
  }
}
