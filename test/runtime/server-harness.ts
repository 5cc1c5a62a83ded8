/**
 * A RaftServer around a real RaftNode (server 1 of 3) and a real KvStore,
 * with the KvService in front of it and fake storage, peers and clients,
 * driven by hand: the test plays the other servers.
 */
import { nullLogger } from "../../src/base/logger.ts";
import assert from "node:assert/strict";
import { Unpackr } from "msgpackr";
import { defaultClusterConfig } from "../../src/config/cluster-config.ts";
import type { ChangeJournalLimits } from "../../src/kv/change-journal.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import {
  RaftNode,
  SeededRandom,
  emptyHardState,
  logStart,
  raftConfigDefaults,
  type Entry,
  type HardState,
  type Membership,
  type Message,
  type ReceivedSnapshot,
} from "../../src/raft/index.ts";
import { RaftServer } from "../../src/runtime/raft-server.ts";
import type { LeaderWatchTiming } from "../../src/runtime/leader-watch.ts";
import { KvService } from "../../src/service/kv-service.ts";
import type { RaftState, RaftStorage, StoredSnapshot, WriteMode } from "../../src/storage/storage.ts";

/** PreVote, CheckQuorum and the first-tick timer off: a harness elects by ticking, then granting the RequestVote. */
export const plainElections = { preVote: false, checkQuorum: false, electionTimerFromFirstTick: false } as const;

/**
 * Saves that stay in flight until released. A save is "critical" when it
 * carries entries, a term or a vote: what messages and answers depend on.
 * (A new commit index alone is never saved by itself: Raft needs no durable
 * commit index, and the server lets it ride with the next save.) A leader's
 * AppendEntries depend only on its term and vote: they may leave while
 * entries alone are saved. A save with a received snapshot is critical too;
 * snapshots the server takes and compaction are not gated: no message waits
 * for them.
 */
export class GatedStorage implements RaftStorage {
  readonly saved: { hardState: HardState | null; entries: readonly Entry[] }[] = [];
  /** The write mode the runtime asked for, as it was at each save. */
  readonly savedModes: WriteMode[] = [];
  private writeMode: WriteMode = "inline-single";
  private gates: { readonly critical: boolean; readonly termOrVote: boolean; readonly open: () => void }[] = [];
  private lastHardState: HardState = emptyHardState;
  private nextFailure: Error | null = null;

  /** The next save fails with `error` when released, as a full disk would make it. */
  failNextWith(error: Error): void {
    this.nextFailure = error;
  }

  inFlight(): number {
    return this.gates.length;
  }

  criticalInFlight(): number {
    return this.gates.filter((gate) => gate.critical).length;
  }

  termOrVoteInFlight(): number {
    return this.gates.filter((gate) => gate.termOrVote).length;
  }

  /**
   * The messages of `messages` that the saves in flight hold back: all of them during a term or vote save;
   * during an entries save all but a leader's AppendEntries, which vouch for nothing of the leader's own
   * disk (dissertation §10.2.1: the leader writes in parallel with its followers).
   */
  heldBack(messages: readonly Message[]): Message[] {
    if (this.gates.some((gate) => gate.termOrVote)) return [...messages];
    return this.criticalInFlight() > 0 ? messages.filter((message) => message.type !== "AppendEntries") : [];
  }

  async load(): Promise<RaftState> {
    return { hardState: emptyHardState, entries: [], logStart, snapshot: logStart };
  }

  save(hardState: HardState | null, entries: readonly Entry[], snapshot?: ReceivedSnapshot): Promise<void> {
    const previous = this.lastHardState;
    if (hardState !== null) this.lastHardState = hardState;
    const termOrVote = hardState !== null && (hardState.currentTerm !== previous.currentTerm || hardState.votedFor !== previous.votedFor);
    const critical = entries.length > 0 || termOrVote || snapshot !== undefined;
    const failure = this.nextFailure;
    this.nextFailure = null;
    this.savedModes.push(this.writeMode);
    return new Promise((resolve, reject) => {
      this.gates.push({
        critical,
        termOrVote,
        open: () => {
          if (failure !== null) return reject(failure);
          this.saved.push({ hardState, entries });
          resolve();
        },
      });
    });
  }

  setWriteMode(mode: WriteMode): void {
    this.writeMode = mode;
  }

  async saveSnapshot(): Promise<void> {}

  async compact(): Promise<void> {}

  readSnapshot(): StoredSnapshot | null {
    return null;
  }

  releaseAll(): void {
    const gates = this.gates;
    this.gates = [];
    for (const gate of gates) gate.open();
  }

  async close(): Promise<void> {}
}

/** Replies in these tests hold only plain fields. */
export const replyDecoder = new Unpackr({ useRecords: false });

export const turns = async (count = 5): Promise<void> => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** What a harness gives to assembleServer: its clock, where replies and failures go, and where broken rules are recorded. */
export interface AssemblyOptions {
  readonly seed: number;
  readonly nowMs: () => number;
  readonly reply: (handle: number, bytes: Uint8Array) => void;
  readonly onFatal: (error: unknown) => void;
  /** Every broken persistence rule is pushed here. */
  readonly violations: string[];
  /** Hold requests while the leadership is in doubt (absent: never). */
  readonly leaderWatch?: LeaderWatchTiming;
  /** The store's change journal limits (absent: the defaults). */
  readonly journal?: Partial<ChangeJournalLimits>;
  readonly onMembershipChange?: (membership: Membership) => void;
}

/**
 * Server 1 of 3: a real RaftNode (plain elections: tick, then grant the
 * RequestVote; these harnesses test the runtime, the election rules have
 * their own tests), a real KvStore, the RaftServer and the KvService, with
 * gated storage, a recording peer sender and the harness's own replies.
 */
export function assembleServer(options: AssemblyOptions) {
  const { nowMs, violations } = options;
  const storage = new GatedStorage();
  const sent: Message[] = [];
  const node = new RaftNode({
    config: { ...raftConfigDefaults, ...plainElections, id: 1, peers: [1, 2, 3] },
    hardState: emptyHardState,
    entries: [],
    nowMs: nowMs(),
    random: new SeededRandom(options.seed),
  });
  const kv = new KvStore(options.journal === undefined ? {} : { journal: options.journal });
  const server = new RaftServer({
    node,
    storage,
    stateMachine: kv,
    peers: {
      send: (messages) => {
        const held = storage.heldBack(messages);
        if (held.length > 0) violations.push(`sent ${held.map((m) => m.type).join(",")} during a save`);
        sent.push(...messages);
      },
    },
    nowMs,
    onFatal: options.onFatal,
    ...(options.leaderWatch === undefined ? {} : { leaderWatch: options.leaderWatch }),
    ...(options.onMembershipChange === undefined ? {} : { onMembershipChange: options.onMembershipChange }),
  });
  const service = new KvService<number>({
    id: 1,
    pid: process.pid,
    uptimeMs: nowMs,
    onShutdownRequested: () => {},
    cluster: { ...defaultClusterConfig(), servers: defaultClusterConfig().servers.slice(0, 3) },
    runtime: server,
    sessions: kv.sessions,
    clients: { reply: options.reply },
    logger: nullLogger,
    wallClockMs: () => 1_700_000_000_000 + nowMs(),
  });
  return { storage, sent, node, kv, server, service };
}

export function harness(options: Pick<AssemblyOptions, "leaderWatch" | "onMembershipChange" | "journal"> = {}) {
  let now = 0;
  const replies: Record<string, unknown>[] = [];
  const violations: string[] = [];
  const fatals: unknown[] = [];
  const { storage, sent, node, server, service } = assembleServer({
    seed: 7,
    nowMs: () => now,
    reply: (_handle, bytes) => {
      // An answer vouches for a committed entry, durable on a majority that counted the leader only once saved,
      // and for the term it reports: a save of later entries may be in flight, a new term or vote may not.
      if (storage.termOrVoteInFlight() > 0) violations.push("answered a client while a term or vote was being saved");
      replies.push(replyDecoder.unpack(bytes) as Record<string, unknown>);
    },
    onFatal: (error) => {
      fatals.push(error);
      violations.push(`fatal: ${String(error)}`);
    },
    violations,
    ...options,
  });
  const advanceTime = (ms: number): void => {
    now += ms;
    server.tick();
  };
  return { storage, sent, replies, violations, fatals, node, server, service, advanceTime };
}

export type ServerHarness = ReturnType<typeof harness>;

/** Makes server 1 leader of term 1 (servers 2 and 3 vote), its no-op saved but not yet acknowledged. */
export async function winElection(h: ServerHarness): Promise<void> {
  // The vote for self is written before RequestVote leaves.
  h.advanceTime(raftConfigDefaults.electionTimeoutMsMax + 1);
  await turns();
  h.storage.releaseAll();
  await turns();
  for (const from of [2, 3]) h.server.receivePeerMessage({ type: "RequestVoteResponse", term: 1, from, to: 1, voteGranted: true });
  await turns();
  h.storage.releaseAll(); // the leader's no-op
  await turns();
  assert.equal(h.node.status().role, "leader");
}

/** Makes server 1 leader of term 1 with its no-op committed (servers 2 and 3 vote; 2 acknowledges). */
export async function becomeLeader(h: ServerHarness): Promise<void> {
  await winElection(h);
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  await turns();
  h.storage.releaseAll();
  await turns();
}
