/**
 * Named scenarios from the Raft paper (Ongaro & Ousterhout, extended
 * version), each played on the deterministic simulator with the safety
 * checkers running after every event, in the manner of etcd's
 * raft_paper_test. Each test's comment names the section it exercises.
 * Every run is fixed by its seed, so a failure replays identically.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Entry, Message, NodeId } from "../../src/raft/index.ts";
import { sameEntry } from "./checkers.ts";
import { Figure8Script } from "./figure8-script.ts";
import { checkLiveness } from "./liveness-check.ts";
import {
  awaitCommitted,
  awaitLeader,
  awaitThat,
  expectSameLogs,
  expectThat,
  proposeAt,
  uniqueCommand,
} from "./scenario-steps.ts";
import { SimClient } from "./sim-client.ts";
import { SimCluster } from "./sim-cluster.ts";

function fiveNodes(seed: number): SimCluster {
  return new SimCluster({ seed, size: 5 });
}

/** Rejected AppendEntries sent by `from` to `to` in `term`: each is one wasted round trip of log repair. */
function countRejections(cluster: SimCluster, from: NodeId, to: NodeId, term: () => number): { count: number } {
  const counter = { count: 0 };
  cluster.network.observe((message) => {
    if (message.type === "AppendEntriesResponse" && !message.success && message.from === from && message.to === to && message.term === term()) {
      counter.count++;
    }
  });
  return counter;
}

function distinctTerms(log: readonly Entry[]): number {
  return new Set(log.map((entry) => entry.term)).size;
}

describe("leader election (§5.2)", () => {
  // §5.2: servers start as followers; one times out, wins a majority and sends heartbeats that keep the others followers.
  test("initial election: exactly one leader, known to all, and it stays", () => {
    const cluster = fiveNodes(1);
    const leader = awaitLeader(cluster, cluster.ids, 2000);
    const { term } = cluster.status(leader)!;
    awaitThat(cluster, "every node follows the leader", () =>
      cluster.ids.every((id) => id === leader || (cluster.status(id)!.leaderId === leader && cluster.status(id)!.term === term)),
    );
    cluster.runFor(3000);
    for (const id of cluster.ids) {
      const status = cluster.status(id)!;
      expectThat(cluster, status.term === term, `node ${id} stayed in term ${term} (heartbeats prevent new elections)`);
      expectThat(cluster, status.role === (id === leader ? "leader" : "follower"), `node ${id} kept its role`);
    }
  });

  // §5.2: when the leader fails, followers time out and elect a new leader in a higher term; the old one rejoins as a follower.
  test("re-election after the leader is lost", () => {
    const cluster = fiveNodes(2);
    const first = awaitLeader(cluster);
    const firstTerm = cluster.status(first)!.term;
    cluster.crash(first);
    const second = awaitLeader(cluster, cluster.ids, 3000);
    expectThat(cluster, second !== first && cluster.status(second)!.term > firstTerm, "a new leader in a higher term");
    cluster.restart(first);
    awaitThat(cluster, "the old leader follows the new one", () => cluster.status(first)!.leaderId === second);
    expectThat(cluster, cluster.leader() === second, "the old leader's return does not unseat the new one");
  });

  // §5.2: a candidate needs votes from a majority of the whole cluster; with 3 of 5 down nobody can win.
  // Dissertation §9.6: the survivors keep asking for pre-votes, but without a majority never raise their terms.
  test("no leader without a majority (3 of 5 down)", () => {
    const cluster = fiveNodes(3);
    for (const id of [1, 2, 3]) cluster.crash(id);
    let preVotes = 0;
    cluster.network.observe((message) => {
      if (message.type === "PreVote") preVotes++;
    });
    cluster.runFor(5000);
    expectThat(cluster, cluster.checker.leaders().size === 0, "no leader was ever elected");
    expectThat(cluster, preVotes >= 20, `the two survivors kept trying (${preVotes} pre-votes asked)`);
    expectThat(cluster, cluster.status(4)!.term === 0 && cluster.status(5)!.term === 0, "and raised no term doing so");
    cluster.restart(1);
    awaitLeader(cluster, cluster.ids, 3000);
  });
});

describe("log replication (§5.3)", () => {
  // §5.3: the leader appends commands, replicates them, and commits them once a majority stores them; every node applies them in order.
  test("basic agreement", () => {
    const cluster = fiveNodes(4);
    const leader = awaitLeader(cluster);
    let last = 0;
    for (let i = 0; i < 20; i++) last = proposeAt(cluster, leader).index;
    awaitCommitted(cluster, cluster.ids, last);
    awaitThat(cluster, "every node applies every entry", () => cluster.ids.every((id) => cluster.lastApplied(id) === last));
    expectSameLogs(cluster, cluster.ids);
  });

  // §5.3: a crashed follower does not stop commits; the leader retries until it has caught up.
  test("agreement despite a failed follower", () => {
    const cluster = fiveNodes(5);
    const leader = awaitLeader(cluster);
    const follower = cluster.ids.find((id) => id !== leader)!;
    cluster.crash(follower);
    let last = 0;
    for (let i = 0; i < 10; i++) last = proposeAt(cluster, leader).index;
    const running = cluster.ids.filter((id) => id !== follower);
    awaitCommitted(cluster, running, last);
    cluster.restart(follower);
    awaitCommitted(cluster, cluster.ids, last);
    expectSameLogs(cluster, cluster.ids);
  });

  // §5.3: an entry is committed only once stored on a majority; with 3 of 5 down it waits, and commits when they return.
  test("no commit without a majority", () => {
    const cluster = fiveNodes(6);
    const leader = awaitLeader(cluster);
    const commitBefore = cluster.status(leader)!.commitIndex;
    const down = cluster.ids.filter((id) => id !== leader).slice(0, 3);
    for (const id of down) cluster.crash(id);
    const { index } = proposeAt(cluster, leader);
    cluster.runFor(3000);
    for (const id of cluster.ids.filter((id) => cluster.isUp(id))) {
      expectThat(cluster, cluster.status(id)!.commitIndex === commitBefore, `node ${id} did not commit without a majority`);
    }
    for (const id of down) cluster.restart(id);
    const newLeader = awaitLeader(cluster);
    // Either the old leader keeps the entry, or a new one (elected with it, by §5.4.1) commits it with its no-op.
    awaitCommitted(cluster, cluster.ids, cluster.status(newLeader)!.lastLogIndex);
    expectThat(cluster, cluster.checker.committedIndex >= index, "the entry committed once a majority was back");
  });

  // §5.3: the leader serializes concurrent commands into one log order that every node shares.
  test("concurrent proposals from several clients", () => {
    const cluster = fiveNodes(7);
    const leader = awaitLeader(cluster);
    const perClient = new Map<string, Uint8Array[]>();
    for (const client of ["a", "b", "c"]) {
      const commands: Uint8Array[] = [];
      perClient.set(client, commands);
      for (let n = 1; n <= 10; n++) {
        const data = uniqueCommand();
        commands.push(data);
        cluster.schedule(cluster.random.intBetween(0, 200), () => proposeAt(cluster, leader, data));
      }
    }
    cluster.runFor(300);
    const last = cluster.status(leader)!.lastLogIndex;
    awaitCommitted(cluster, cluster.ids, last);
    expectSameLogs(cluster, cluster.ids);
    const log = cluster.node(leader)!.logEntries();
    for (const [client, commands] of perClient) {
      const positions = commands.map((data) => log.filter((entry) => entry.data === data).map((entry) => entry.index));
      expectThat(cluster, positions.every((found) => found.length === 1), `each command of client ${client} is in the log exactly once`);
    }
  });

  // §5.3: a partitioned old leader keeps accepting commands it cannot commit; when it rejoins, the new leader overwrites them.
  test("rejoin of a partitioned old leader with uncommitted divergent entries", () => {
    const cluster = fiveNodes(8);
    const old = awaitLeader(cluster);
    cluster.network.partition([[old]]);
    const lost = [uniqueCommand(), uniqueCommand(), uniqueCommand()];
    for (const data of lost) proposeAt(cluster, old, data);
    const majority = cluster.ids.filter((id) => id !== old);
    const current = awaitLeader(cluster, majority);
    let last = 0;
    for (let i = 0; i < 2; i++) last = proposeAt(cluster, current).index;
    awaitCommitted(cluster, majority, last);
    cluster.network.heal();
    awaitCommitted(cluster, cluster.ids, last);
    expectSameLogs(cluster, cluster.ids);
    const log = cluster.node(old)!.logEntries();
    expectThat(cluster, !log.some((entry) => lost.includes(entry.data)), "the old leader's uncommitted entries are gone");
  });

  // §5.3 (end): with the conflict hint, a rejection skips a follower's whole term, so a follower 50 entries behind costs one round trip, not 50.
  test("backup: a follower 50 entries behind is repaired in few round trips", (t) => {
    const cluster = fiveNodes(9);
    const first = awaitLeader(cluster);
    const behind = cluster.ids.find((id) => id !== first)!;
    cluster.crash(behind);
    let last = 0;
    for (let i = 0; i < 50; i++) last = proposeAt(cluster, first).index;
    awaitCommitted(cluster, cluster.ids.filter((id) => id !== behind), last);
    // A new leader starts with nextIndex past its whole log for every follower: the repair starts far from the match.
    cluster.crash(first);
    cluster.restart(behind);
    const heldAtRestart = cluster.durableLog(behind).lastIndex;
    const leader = awaitLeader(cluster, cluster.ids.filter((id) => id !== first && id !== behind));
    const leaderTerm = cluster.status(leader)!.term;
    const rejections = countRejections(cluster, behind, leader, () => leaderTerm);
    last = proposeAt(cluster, leader).index;
    awaitCommitted(cluster, [behind], last);
    const bound = distinctTerms(cluster.node(leader)!.logEntries()) + 2;
    t.diagnostic(`${rejections.count} rejections to repair a follower ${last - heldAtRestart} entries behind (bound ${bound})`);
    expectThat(cluster, rejections.count >= 1 && rejections.count <= bound, `${rejections.count} rejections, between 1 and ${bound} expected`);
  });

  // §5.3 (end): followers holding 50 divergent entries of an old term are repaired in a round trip or two, one term per rejection.
  test("backup: followers with 50 divergent entries are repaired in few round trips", (t) => {
    const cluster = fiveNodes(10);
    const old = awaitLeader(cluster);
    awaitCommitted(cluster, cluster.ids, 1);
    const partner = cluster.ids.find((id) => id !== old)!;
    const rest = cluster.ids.filter((id) => id !== old && id !== partner);
    cluster.network.partition([[old, partner]]);
    for (let i = 0; i < 50; i++) proposeAt(cluster, old);
    awaitThat(cluster, "the partner holds the 50 divergent entries", () => cluster.status(partner)!.lastLogIndex >= 51);
    const middle = awaitLeader(cluster, rest);
    let last = 0;
    for (let i = 0; i < 50; i++) last = proposeAt(cluster, middle).index;
    awaitCommitted(cluster, rest, last);
    cluster.crash(middle);
    cluster.network.heal();
    const survivors = rest.filter((id) => id !== middle);
    const leader = awaitLeader(cluster, survivors);
    const leaderTerm = cluster.status(leader)!.term;
    const counters = [old, partner].map((id) => ({ id, rejections: countRejections(cluster, id, leader, () => leaderTerm) }));
    last = proposeAt(cluster, leader).index;
    awaitCommitted(cluster, [old, partner, ...survivors], last);
    expectSameLogs(cluster, [old, partner, ...survivors]);
    const bound = distinctTerms(cluster.node(leader)!.logEntries()) + 2;
    for (const { id, rejections } of counters) {
      t.diagnostic(`node ${id}: ${rejections.count} rejections to repair 50 divergent entries (bound ${bound})`);
      expectThat(cluster, rejections.count >= 1 && rejections.count <= bound, `node ${id}: ${rejections.count} rejections, between 1 and ${bound} expected`);
    }
  });

  // §5.3 and Figure 2 (persistent state): every server crashes and restarts; each recovers its term, vote and log from disk and re-applies what it had committed.
  test("persistence: crash and restart every server", () => {
    const cluster = fiveNodes(11);
    const leader = awaitLeader(cluster);
    let last = 0;
    for (let i = 0; i < 10; i++) last = proposeAt(cluster, leader).index;
    awaitCommitted(cluster, cluster.ids, last);
    const before = new Map(cluster.ids.map((id) => [id, { status: cluster.status(id)!, log: cluster.node(id)!.logEntries().slice() }]));
    for (const id of cluster.ids) cluster.crash(id);
    cluster.runFor(500);
    for (const id of cluster.ids) {
      cluster.restart(id);
      const { status, log } = before.get(id)!;
      const now = cluster.status(id)!;
      expectThat(cluster, now.term === status.term && now.votedFor === status.votedFor, `node ${id} recovered its term and vote`);
      expectThat(cluster, now.commitIndex === status.commitIndex, `node ${id} recovered its commit index`);
      const recovered = cluster.node(id)!.logEntries();
      expectThat(cluster, recovered.length === log.length && recovered.every((entry, i) => sameEntry(entry, log[i]!)), `node ${id} recovered its log`);
      expectThat(cluster, cluster.lastApplied(id) === status.commitIndex, `node ${id} re-applied its committed entries at once`);
    }
    const next = awaitLeader(cluster);
    const { index } = proposeAt(cluster, next);
    awaitCommitted(cluster, cluster.ids, index);
  });

  // Dissertation §10.2.1: a leader sends its entries while it writes them. If it dies before its own write, the
  // followers that stored them may still commit them under the next leader; the old leader comes back without them.
  test("a leader that crashes between sending its entries and saving them", () => {
    const cluster = fiveNodes(12);
    const leader = awaitLeader(cluster);
    awaitCommitted(cluster, cluster.ids, cluster.status(leader)!.lastLogIndex);
    const onDiskBefore = cluster.durableLog(leader).lastIndex;
    let crashed = false;
    cluster.crashAt = (id, point) => {
      if (id !== leader || point !== "before-save" || crashed) return false;
      crashed = true;
      return true;
    };
    const { index } = proposeAt(cluster, leader);
    cluster.crashAt = null;
    expectThat(cluster, crashed && !cluster.isUp(leader), "the leader crashed before its save");
    expectThat(cluster, cluster.durableLog(leader).lastIndex === onDiskBefore, "its disk does not hold the entry");
    const others = cluster.ids.filter((id) => id !== leader);
    awaitLeader(cluster, others);
    awaitCommitted(cluster, others, index);
    cluster.restart(leader);
    awaitCommitted(cluster, cluster.ids, index);
    expectSameLogs(cluster, cluster.ids);
  });

  // §5.3 under an unreliable network: lost, duplicated and reordered messages delay commits but never break agreement.
  test("unreliable network: 10% drops, duplicates and reordering still agree", () => {
    const cluster = fiveNodes(12);
    cluster.network.setFaults({ dropRate: 0.1, duplicateRate: 0.05, delayMsMin: 1, delayMsMax: 40 });
    const clients = ["a", "b", "c"].map((name) => new SimClient(cluster, name, { pauseMsMin: 5, pauseMsMax: 50, readProbability: 0, writeTimeoutMs: 600 }));
    for (const client of clients) client.start();
    cluster.runFor(10_000);
    for (const client of clients) client.stop();
    cluster.network.setFaults({ dropRate: 0, duplicateRate: 0, delayMsMin: 1, delayMsMax: 5 });
    checkLiveness(cluster, 5000);
    cluster.runFor(500);
    for (const client of clients) expectThat(cluster, client.committed >= 20, `client ${client.name} committed ${client.committed} writes`);
    expectSameLogs(cluster, cluster.ids);
  });

  // §5.3 (batching, as etcd does): proposals of one turn go out as one durable append and one AppendEntries per follower.
  test("batching: 100 proposals in one turn make one append and one AppendEntries per follower", () => {
    const cluster = fiveNodes(13);
    const leader = awaitLeader(cluster);
    awaitCommitted(cluster, cluster.ids, cluster.status(leader)!.lastLogIndex);
    cluster.runFor(200);
    const appends: number[] = [];
    cluster.observeReady((id, ready) => {
      if (id === leader && ready.entries.length > 0) appends.push(ready.entries.length);
    });
    const carried = new Map<NodeId, Message[]>();
    cluster.network.observe((message) => {
      if (message.type === "AppendEntries" && message.from === leader && message.entries.length > 0) {
        carried.set(message.to, [...(carried.get(message.to) ?? []), message]);
      }
    });
    const indexes = cluster.withNode(leader, (node) =>
      Array.from({ length: 100 }, () => {
        const result = node.propose(uniqueCommand());
        assert.ok(result.ok);
        return result.index;
      }),
    );
    const last = indexes.at(-1)!;
    awaitCommitted(cluster, cluster.ids, last);
    assert.deepEqual(appends, [100], "one durable append of 100 entries at the leader");
    for (const id of cluster.ids.filter((id) => id !== leader)) {
      const messages = carried.get(id) ?? [];
      expectThat(cluster, messages.length === 1 && messages[0]!.type === "AppendEntries" && messages[0]!.entries.length === 100, `follower ${id} got ${messages.length} AppendEntries`);
    }
  });
});

describe("safety (§5.4)", () => {
  // §5.4.2, Figure 8 (a)-(d): an entry of an old term stored on a majority is not committed by counting replicas; a newer leader may still overwrite it.
  test("Figure 8: an old-term entry on a majority is not committed, and may be overwritten", () => {
    const script = new Figure8Script(1);
    const { cluster } = script;
    script.stepA();
    script.stepB();
    script.stepC();
    const holders = [script.first, ...script.others].filter((id) => {
      const held = cluster.node(id)?.logEntry(2);
      return held !== undefined && sameEntry(held, script.oldEntry!);
    });
    expectThat(cluster, holders.length + 1 >= 3, "the old entry is on a majority (counting the second node's disk)");
    for (const id of cluster.ids.filter((id) => cluster.isUp(id))) {
      expectThat(cluster, cluster.status(id)!.commitIndex < 2, `node ${id} did not commit the old-term entry by counting replicas`);
    }
    script.stepD();
    for (const id of [script.stale, ...script.others]) {
      const held = cluster.node(id)!.logEntry(2)!;
      expectThat(cluster, !sameEntry(held, script.oldEntry!), `node ${id}: the uncommitted old entry was overwritten`);
    }
    script.restartAll();
    expectSameLogs(cluster, cluster.ids);
  });

  // §5.4.2, Figure 8 (e): once the leader's own-term entry is on a majority, it commits the old entry with it, and a stale server can no longer be elected.
  test("Figure 8 (e): committing an entry of the current term commits the old one for good", () => {
    const script = new Figure8Script(1);
    const { cluster } = script;
    script.stepA();
    script.stepB();
    script.stepC();
    script.stepE();
    script.restartAll();
    expectSameLogs(cluster, cluster.ids);
    for (const id of cluster.ids) {
      expectThat(cluster, sameEntry(cluster.node(id)!.logEntry(2)!, script.oldEntry!), `node ${id} keeps the committed old entry`);
    }
  });
});

describe("linearizable reads (§8, ReadIndex)", () => {
  // §8: a read is served at an index at least the commit index when it arrived, once a majority has confirmed the leader.
  test("a confirmed read carries an index at or above the commit index at request time", () => {
    const cluster = fiveNodes(14);
    const leader = awaitLeader(cluster);
    let last = 0;
    for (let i = 0; i < 5; i++) last = proposeAt(cluster, leader).index;
    awaitCommitted(cluster, [leader], last);
    const confirmed = new Map<number, number>();
    cluster.observeReady((id, ready) => {
      if (id === leader) for (const state of ready.readStates) confirmed.set(state.context, state.index);
    });
    const commitAtRequest = cluster.status(leader)!.commitIndex;
    const context = cluster.readIndex(leader);
    assert.notEqual(context, null, "the leader accepts the read");
    awaitThat(cluster, "the read is confirmed", () => confirmed.has(context!), 1000);
    expectThat(cluster, confirmed.get(context!)! >= commitAtRequest, `read index ${confirmed.get(context!)} >= commit index ${commitAtRequest}`);
  });

  // Reads that arrive while a round is in flight wait for it and share the next: under load rounds grow rather than multiply.
  test("one heartbeat round in flight: reads arriving meanwhile share the next round, and all are confirmed", () => {
    const cluster = fiveNodes(16);
    const leader = awaitLeader(cluster);
    awaitCommitted(cluster, cluster.ids, cluster.status(leader)!.lastLogIndex);
    const confirmed = new Set<number>();
    cluster.observeReady((id, ready) => {
      if (id === leader) for (const state of ready.readStates) confirmed.add(state.context);
    });
    const rounds = new Set<number>();
    cluster.network.observe((message) => {
      if (message.from === leader && message.type === "AppendEntries") rounds.add(message.readRound);
    });
    const contexts: number[] = [];
    const firstRound = Math.max(0, ...[...rounds]);
    // Each read in its own turn, 1 ms apart: the first round's answers take at least 2 ms (two hops of 1-5 ms).
    for (const delayMs of [0, 1, 1]) {
      cluster.runFor(delayMs);
      contexts.push(cluster.readIndex(leader)!);
    }
    awaitThat(cluster, "every read is confirmed", () => contexts.every((context) => confirmed.has(context)), 1000);
    const newRounds = [...rounds].filter((round) => round > firstRound);
    assert.deepEqual(newRounds.sort(), [firstRound + 1, firstRound + 2], "the second and third reads shared one round");
  });

  // §8: a leader cut off from the majority cannot confirm it still leads, so it never answers a read; it drops the read when it steps down.
  test("a partitioned old leader never confirms a read", () => {
    const cluster = fiveNodes(15);
    const old = awaitLeader(cluster);
    awaitCommitted(cluster, cluster.ids, cluster.status(old)!.lastLogIndex);
    const outcomes: string[] = [];
    cluster.observeReady((id, ready) => {
      if (id !== old) return;
      for (const state of ready.readStates) outcomes.push(`confirmed ${state.context}`);
      for (const context of ready.droppedReads) outcomes.push(`dropped ${context}`);
    });
    cluster.network.partition([[old]]);
    const context = cluster.readIndex(old);
    assert.notEqual(context, null, "the old leader, not yet aware of the partition, accepts the read");
    const majority = cluster.ids.filter((id) => id !== old);
    const current = awaitLeader(cluster, majority);
    awaitCommitted(cluster, majority, proposeAt(cluster, current).index);
    cluster.runFor(3000);
    expectThat(cluster, !outcomes.includes(`confirmed ${context}`), "no confirmation while partitioned");
    cluster.network.heal();
    awaitThat(cluster, "the old leader steps down", () => cluster.status(old)!.role === "follower");
    assert.deepEqual(outcomes, [`dropped ${context}`], "the read is dropped, never confirmed");
  });
});
