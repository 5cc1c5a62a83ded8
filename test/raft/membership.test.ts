/**
 * Membership changes in the core (Raft dissertation ch. 4): single-server
 * changes as configuration entries, learners that catch up before they are
 * promoted, a leader that removes itself, and the guards around them. Played
 * on a small synchronous network of real nodes; the simulator's fuzzer runs
 * them under faults.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  RaftNode,
  SeededRandom,
  decodeMembership,
  emptyHardState,
  encodeMembership,
  raftConfigDefaults,
  type Membership,
  type Message,
  type NodeId,
} from "../../src/raft/index.ts";
import { MembershipLog } from "../../src/raft/membership.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";

/** Nodes joined by a perfect network: every Ready's messages are delivered at once to the nodes that are up. */
class Network {
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly loggers = new Map<NodeId, RecordingLogger>();
  readonly down = new Set<NodeId>();
  nowMs = 0;

  add(id: NodeId, peers: readonly NodeId[], membership?: Membership): RaftNode {
    const logger = new RecordingLogger();
    const node = new RaftNode({
      config: { ...raftConfigDefaults, id, peers: peers.includes(id) ? peers : [id] },
      hardState: emptyHardState,
      entries: [],
      nowMs: this.nowMs,
      random: new SeededRandom(id),
      logger,
      ...(membership === undefined ? {} : { membership }),
    });
    this.nodes.set(id, node);
    this.loggers.set(id, logger);
    return node;
  }

  deliver(): void {
    for (let round = 0; round < 1000; round++) {
      const messages: Message[] = [];
      for (const [id, node] of this.nodes) {
        while (!this.down.has(id) && node.hasReady()) {
          const ready = node.ready();
          messages.push(...ready.messages);
          node.advance(ready);
        }
      }
      if (messages.length === 0) return;
      for (const message of messages) if (!this.down.has(message.to)) this.nodes.get(message.to)?.step(message);
    }
    assert.fail("the network did not settle");
  }

  /** Lets `ms` pass in heartbeat steps, delivering everything. */
  run(ms: number): void {
    for (const end = this.nowMs + ms; this.nowMs < end; ) {
      this.nowMs += 10;
      for (const [id, node] of this.nodes) if (!this.down.has(id)) node.tick(this.nowMs);
      this.deliver();
    }
  }

  leader(): NodeId | null {
    for (const [id, node] of this.nodes) if (!this.down.has(id) && node.status().role === "leader") return id;
    return null;
  }

  voters(id: NodeId): readonly NodeId[] {
    return [...this.nodes.get(id)!.membership().voters].sort();
  }
}

function threeNodes(): Network {
  const network = new Network();
  for (const id of [1, 2, 3]) network.add(id, [1, 2, 3]);
  network.run(1000);
  assert.ok(network.leader() !== null, "a leader of three");
  return network;
}

const joining: Membership = { voters: [], learners: [], context: "" };

test("a server joins as a learner, catches up, and is promoted to voter by the leader (dissertation §4.2.1)", () => {
  const network = threeNodes();
  const leader = network.nodes.get(network.leader()!)!;
  for (let i = 0; i < 20; i++) assert.ok(leader.propose(new Uint8Array([i])).ok);
  network.deliver();
  network.add(4, [], joining);
  const added = leader.proposeMembership({ kind: "add-learner", id: 4, context: "with 4" });
  assert.ok(added.ok, JSON.stringify(added));
  network.run(500);
  for (const id of [1, 2, 3, 4]) assert.deepEqual(network.voters(id), [1, 2, 3, 4], `server ${id}'s voters`);
  assert.equal(network.nodes.get(4)!.status().lastLogIndex, leader.status().lastLogIndex, "the new voter holds the whole log");
  assert.ok(network.loggers.get(network.leader()!)!.has("info", "promoting it from learner to voter"));
  assert.equal(network.nodes.get(1)!.membership().context, "with 4");
});

test("a learner never campaigns, however long it hears nothing", () => {
  const network = threeNodes();
  const leaderId = network.leader()!;
  network.add(4, [], joining);
  network.down.add(leaderId);
  network.run(2000);
  assert.equal(network.nodes.get(4)!.status().role, "follower");
  assert.equal(network.nodes.get(4)!.status().term, 0, "it never raised its term");
});

test("a removed follower stops counting and cannot disrupt: its vote requests are dropped (§4.2.3)", () => {
  const network = threeNodes();
  const leaderId = network.leader()!;
  const removed = [1, 2, 3].find((id) => id !== leaderId)!;
  const leader = network.nodes.get(leaderId)!;
  assert.ok(leader.proposeMembership({ kind: "remove", id: removed, context: "" }).ok);
  network.run(300);
  const survivors = [1, 2, 3].filter((id) => id !== removed);
  for (const id of survivors) assert.deepEqual(network.voters(id), survivors);
  const term = leader.status().term;
  // A removed server that missed its removal (down, or cut off) still takes itself for a voter and campaigns.
  const stale = network.add(removed, [1, 2, 3]);
  assert.ok(stale.campaign());
  network.run(1000);
  assert.equal(network.leader(), leaderId, "the leader leads on");
  assert.equal(leader.status().term, term, "in the same term");
  const ignored = network.loggers.get(leaderId)!.records.filter((record) => record.message.startsWith(`ignored a RequestVote from server ${removed}`) || record.message.startsWith(`ignored a PreVote from server ${removed}`));
  assert.equal(ignored.length, 1, "said once, however often it asks");
  // With two voters, one is not a majority: the leader alone commits nothing.
  const other = survivors.find((id) => id !== leaderId)!;
  network.down.add(other);
  const index = leader.propose(new Uint8Array([9]));
  network.run(300);
  assert.ok(index.ok);
  assert.ok(leader.status().commitIndex < index.index, "one of two voters commits nothing");
});

test("a removed follower learns of its removal: the leader replicates to it until it holds the entry, then stops", () => {
  const network = threeNodes();
  const leaderId = network.leader()!;
  const leader = network.nodes.get(leaderId)!;
  const [removed, other] = [1, 2, 3].filter((id) => id !== leaderId) as [NodeId, NodeId];
  // It is down when it is removed: the change commits with the two voters left, and reaches it once it is back.
  network.down.add(removed);
  const change = leader.proposeMembership({ kind: "remove", id: removed, context: "" });
  assert.ok(change.ok);
  network.run(300);
  assert.ok(leader.status().commitIndex >= change.index, "committed by the voters left");
  network.down.delete(removed);
  network.run(300);
  const node = network.nodes.get(removed)!;
  assert.deepEqual(network.voters(removed), [leaderId, other].sort(), "it holds the configuration without itself");
  assert.ok(network.loggers.get(leaderId)!.has("info", `server ${removed} holds the configuration that removed it`));
  assert.equal(node.status().leaderId, leaderId);
  assert.equal(node.campaign(), false, "it no longer stands");
  const before = node.status().lastLogIndex;
  assert.ok(leader.propose(new Uint8Array([1])).ok);
  network.run(300);
  assert.equal(node.status().lastLogIndex, before, "no entries go to it any more");
  assert.deepEqual(leader.followers().map((follower) => follower.id), [other], "and it is no follower of the leader's");
});

test("a follower removed while it is down learns of it when back, also after later changes", () => {
  const network = threeNodes();
  const leaderId = network.leader()!;
  const leader = network.nodes.get(leaderId)!;
  const [removed, other] = [1, 2, 3].filter((id) => id !== leaderId) as [NodeId, NodeId];
  network.down.add(removed);
  assert.ok(leader.proposeMembership({ kind: "remove", id: removed, context: "" }).ok);
  network.run(300);
  network.add(4, [], joining);
  assert.ok(leader.proposeMembership({ kind: "add-learner", id: 4, context: "" }).ok);
  network.run(500);
  assert.deepEqual(network.voters(leaderId), [leaderId, other, 4].sort(), "server 4 added and promoted meanwhile");
  network.down.delete(removed);
  network.run(300);
  assert.ok(!network.voters(removed).includes(removed), "it holds a configuration without itself");
  assert.equal(network.nodes.get(removed)!.campaign(), false);
});

test("a leader whose removal commits while an entry waits to be sent steps down without sending it", () => {
  const network = threeNodes();
  const leaderId = network.leader()!;
  const leader = network.nodes.get(leaderId)!;
  assert.ok(leader.proposeMembership({ kind: "remove", id: leaderId, context: "" }).ok);
  const ready = leader.ready();
  leader.advance(ready);
  const acknowledgements: Message[] = [];
  for (const message of ready.messages) {
    const follower = network.nodes.get(message.to)!;
    follower.step(message);
    while (follower.hasReady()) {
      const answer = follower.ready();
      acknowledgements.push(...answer.messages);
      follower.advance(answer);
    }
  }
  // Proposed after the removal went out: it waits for the next Ready when the acknowledgements commit the removal.
  assert.ok(leader.propose(new Uint8Array([1])).ok);
  for (const message of acknowledgements) leader.step(message);
  assert.equal(leader.status().role, "follower");
});

test("a leader that removes itself leads until the change commits, then steps down; the others elect a leader (§4.2.2)", () => {
  const network = threeNodes();
  const leaderId = network.leader()!;
  const leader = network.nodes.get(leaderId)!;
  assert.ok(leader.proposeMembership({ kind: "remove", id: leaderId, context: "" }).ok);
  network.run(1500);
  assert.equal(leader.status().role, "follower");
  assert.ok(network.loggers.get(leaderId)!.has("info", "the configuration that removed this server is committed"));
  const next = network.leader();
  assert.ok(next !== null && next !== leaderId, `a new leader among the others (got ${String(next)})`);
  assert.deepEqual(network.voters(next), [1, 2, 3].filter((id) => id !== leaderId));
});

test("one change at a time: a second is refused until the first commits; nonsense changes are refused", () => {
  const network = threeNodes();
  const leader = network.nodes.get(network.leader()!)!;
  network.down.add([1, 2, 3].find((id) => id !== network.leader())!);
  network.down.add([1, 2, 3].filter((id) => id !== network.leader())[1]!);
  assert.ok(leader.proposeMembership({ kind: "add-learner", id: 4, context: "" }).ok);
  const second = leader.proposeMembership({ kind: "add-learner", id: 5, context: "" });
  assert.ok(!second.ok && second.reason === "refused" && /not committed yet/.test(second.problem), JSON.stringify(second));
  network.down.clear();
  network.run(300);
  for (const [change, why] of [
    [{ kind: "add-learner", id: 2, context: "" }, /already a member/],
    [{ kind: "promote", id: 7 }, /not a learner/],
    [{ kind: "remove", id: 8, context: "" }, /not a member/],
  ] as const) {
    const refused = leader.proposeMembership(change);
    assert.ok(!refused.ok && refused.reason === "refused" && why.test(refused.problem), JSON.stringify(refused));
  }
});

test("a configuration entry that does not decode is dropped with the AppendEntries that carried it", () => {
  const logger = new RecordingLogger();
  const node = new RaftNode({ config: { ...raftConfigDefaults, id: 1, peers: [1, 2, 3] }, hardState: emptyHardState, entries: [], nowMs: 0, random: new SeededRandom(1), logger });
  node.step({
    type: "AppendEntries",
    term: 1,
    from: 2,
    to: 1,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [{ index: 1, term: 1, type: "config", data: new TextEncoder().encode('{"voters":[]}') }],
    leaderCommit: 0,
    readRound: 0,
  });
  assert.equal(node.status().lastLogIndex, 0);
  assert.ok(logger.has("warn", "no honest leader sends that"));
  assert.deepEqual(node.membership().voters, [1, 2, 3]);
});

test("configuration entries: encoded and decoded; garbage refused with a reason", () => {
  const membership: Membership = { voters: [1, 2], learners: [3], context: "{}" };
  assert.deepEqual(decodeMembership(encodeMembership(membership)), membership);
  for (const text of ["", "[]", "null", '{"voters":[1,1],"learners":[],"context":""}', '{"voters":[1],"learners":[1],"context":""}', '{"voters":[0],"learners":[],"context":""}', '{"voters":[1],"learners":[]}']) {
    assert.equal(typeof decodeMembership(new TextEncoder().encode(text)), "string", text);
  }
});

test("the membership log: latest in force, truncation reverts, compaction keeps what was in force", () => {
  const m = (voters: number[]): Membership => ({ voters, learners: [], context: "" });
  const log = new MembershipLog(m([1, 2, 3]), 0);
  log.appended(5, m([1, 2, 3, 4]));
  log.appended(9, m([1, 2, 4]));
  assert.deepEqual(log.current().voters, [1, 2, 4]);
  assert.deepEqual(log.at(7).voters, [1, 2, 3, 4]);
  log.truncateFrom(9);
  assert.deepEqual(log.current().voters, [1, 2, 3, 4]);
  log.compactTo(6);
  assert.deepEqual(log.at(6).voters, [1, 2, 3, 4]);
  assert.equal(log.currentIndex(), 6);
  log.reset(m([7]), 20);
  assert.deepEqual(log.current().voters, [7]);
});
