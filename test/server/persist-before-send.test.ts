/**
 * The persistence rule in the server runtime (Raft paper, Figure 2: "update
 * stable storage before responding to RPCs"; ARCHITECTURE.md habit 2): no
 * Raft message leaves, no vote is granted and no client is answered while the
 * write of the state they depend on is still in flight. Storage here is a fake
 * whose saves complete only when the test says so; the LMDB tests prove that
 * a completed save is fsync'd.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Unpackr, pack } from "msgpackr";
import { defaultClusterConfig } from "../../src/config/cluster-config.ts";
import { KvStateMachine } from "../../src/kv/state-machine.ts";
import {
  RaftNode,
  SeededRandom,
  emptyHardState,
  raftConfigDefaults,
  nullLogger,
  type Entry,
  type HardState,
  type Message,
} from "../../src/raft/index.ts";
import { RaftServer } from "../../src/server/raft-server.ts";
import type { RaftState, RaftStorage } from "../../src/storage/storage.ts";

/**
 * Saves that stay in flight until released. A save is "critical" when it
 * carries entries, a term or a vote: what messages and answers depend on.
 * (A save of a new commit index alone is not: Raft needs no durable commit
 * index, and the server writes it off the answer's path.)
 */
class GatedStorage implements RaftStorage {
  readonly saved: { hardState: HardState | null; entries: readonly Entry[] }[] = [];
  private gates: { readonly critical: boolean; readonly open: () => void }[] = [];
  private lastHardState: HardState = emptyHardState;

  inFlight(): number {
    return this.gates.length;
  }

  criticalInFlight(): number {
    return this.gates.filter((gate) => gate.critical).length;
  }

  async load(): Promise<RaftState> {
    return { hardState: emptyHardState, entries: [] };
  }

  save(hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    const previous = this.lastHardState;
    if (hardState !== null) this.lastHardState = hardState;
    const critical =
      entries.length > 0 || (hardState !== null && (hardState.currentTerm !== previous.currentTerm || hardState.votedFor !== previous.votedFor));
    return new Promise((resolve) => {
      this.gates.push({
        critical,
        open: () => {
          this.saved.push({ hardState, entries });
          resolve();
        },
      });
    });
  }

  releaseAll(): void {
    const gates = this.gates;
    this.gates = [];
    for (const gate of gates) gate.open();
  }

  async close(): Promise<void> {}
}

/** Replies in these tests hold only plain fields. */
const replyDecoder = new Unpackr({ useRecords: false });

const turns = async (count = 5): Promise<void> => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

function harness() {
  let now = 0;
  const storage = new GatedStorage();
  const sent: Message[] = [];
  const replies: Record<string, unknown>[] = [];
  const violations: string[] = [];
  const node = new RaftNode({
    config: { ...raftConfigDefaults, id: 1, peers: [1, 2, 3] },
    hardState: emptyHardState,
    entries: [],
    nowMs: now,
    random: new SeededRandom(7),
  });
  const server = new RaftServer<number>({
    id: 1,
    cluster: { ...defaultClusterConfig(), servers: defaultClusterConfig().servers.slice(0, 3) },
    node,
    storage,
    kv: new KvStateMachine(),
    peers: {
      send: (messages) => {
        if (storage.criticalInFlight() > 0) violations.push(`sent ${messages.map((m) => m.type).join(",")} during a save`);
        sent.push(...messages);
      },
    },
    clients: {
      reply: (_handle, bytes) => {
        if (storage.criticalInFlight() > 0) violations.push("answered a client during a save");
        replies.push(replyDecoder.unpack(bytes) as Record<string, unknown>);
      },
    },
    logger: nullLogger,
    nowMs: () => now,
    onFatal: (error) => violations.push(`fatal: ${String(error)}`),
  });
  const advanceTime = (ms: number): void => {
    now += ms;
    server.tick();
  };
  return { storage, sent, replies, violations, node, server, advanceTime };
}


test("a vote is granted only after votedFor is durable", async () => {
  const h = harness();
  h.server.receivePeerMessage({ type: "RequestVote", term: 1, from: 2, to: 1, lastLogIndex: 0, lastLogTerm: 0 });
  await turns();
  assert.equal(h.storage.inFlight(), 1, "the vote is being written");
  assert.equal(h.sent.length, 0, "no RequestVoteResponse before the vote is durable");
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(h.storage.saved[0]!.hardState, { currentTerm: 1, votedFor: 2, commitIndex: 0 });
  const response = h.sent.find((m) => m.type === "RequestVoteResponse");
  assert.ok(response && response.type === "RequestVoteResponse" && response.voteGranted);
  assert.deepEqual(h.violations, []);
});

test("a follower acknowledges entries only after they are durable", async () => {
  const h = harness();
  const entries: Entry[] = [{ index: 1, term: 1, type: "noop", data: new Uint8Array(0) }];
  h.server.receivePeerMessage({ type: "AppendEntries", term: 1, from: 2, to: 1, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 0, readRound: 0 });
  await turns();
  assert.equal(h.sent.length, 0, "no AppendEntriesResponse while the entry is being written");
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(h.storage.saved[0]!.entries, entries);
  assert.ok(h.sent.some((m) => m.type === "AppendEntriesResponse" && m.success && m.matchIndex === 1));
  assert.deepEqual(h.violations, []);
});

test("a client's write is answered only after it is durable on a majority", async () => {
  const h = harness();
  // Win an election in term 1: the vote for self is written before RequestVote leaves.
  h.advanceTime(raftConfigDefaults.electionTimeoutMsMax + 1);
  await turns();
  h.storage.releaseAll();
  await turns();
  for (const from of [2, 3]) h.server.receivePeerMessage({ type: "RequestVoteResponse", term: 1, from, to: 1, voteGranted: true });
  await turns();
  h.storage.releaseAll(); // the leader's no-op
  await turns();
  assert.equal(h.node.status().role, "leader");
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  await turns();
  h.storage.releaseAll();
  await turns();

  h.sent.length = 0;
  h.server.receiveClientRequest(42, [pack({ op: "put", key: "k", value: "v", rid: 9 })]);
  await turns();
  assert.equal(h.storage.inFlight(), 1, "the leader writes the entry first");
  assert.equal(h.sent.length, 0, "no AppendEntries before the leader's own write");
  h.storage.releaseAll();
  await turns();
  assert.ok(h.sent.some((m) => m.type === "AppendEntries" && m.entries.length === 1), "replication after the write");
  assert.equal(h.replies.length, 0, "not answered before a majority has it");
  h.server.receivePeerMessage({ type: "AppendEntriesResponse", term: 1, from: 3, to: 1, success: true, matchIndex: 2, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  await turns();
  assert.deepEqual(h.replies, [{ ok: true, index: 2, term: 1, leaderId: 1, rid: 9 }], "committed on a majority: answered without waiting for the commit index write");
  assert.equal(h.storage.criticalInFlight(), 0);
  assert.deepEqual(h.violations, []);
});
