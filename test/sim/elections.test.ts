/**
 * Elections only when needed, played on the deterministic simulator with
 * every checker running after every event (the election rules of
 * test/sim/election-checker.ts included). Each test names the section of
 * Ongaro's dissertation it exercises: §9.6 PreVote, §4.2.3 leader
 * stickiness, §6.2 CheckQuorum, §3.10 leadership transfer; and the rule that
 * a restarted server's election timer starts at its first tick.
 */
import { describe, test } from "node:test";
import type { Message, NodeId } from "../../src/raft/index.ts";
import { awaitCommitted, awaitLeader, awaitThat, expectSameLogs, expectThat, proposeAt, uniqueCommand } from "./scenario-steps.ts";
import { SimCluster } from "./sim-cluster.ts";

function fiveNodes(seed: number): SimCluster {
  return new SimCluster({ seed, size: 5 });
}

/** Records every message of `types` that `from` sends, with the time it left. */
function recordSent(cluster: SimCluster, from: NodeId, types: readonly Message["type"][]): { atMs: number; message: Message }[] {
  const sent: { atMs: number; message: Message }[] = [];
  cluster.network.observe((message) => {
    if (message.from === from && types.includes(message.type)) sent.push({ atMs: cluster.nowMs, message });
  });
  return sent;
}

const highestTerm = (cluster: SimCluster): number => Math.max(...cluster.ids.map((id) => cluster.status(id)?.term ?? 0));

/** A leader with its no-op committed everywhere: a settled cluster. */
function settled(cluster: SimCluster): { leader: NodeId; term: number } {
  const leader = awaitLeader(cluster);
  awaitCommitted(cluster, cluster.ids, cluster.status(leader)!.lastLogIndex);
  return { leader, term: cluster.status(leader)!.term };
}

describe("PreVote (dissertation §9.6)", () => {
  // §9.6: a server cut off for many election timeouts only asks for pre-votes, which nobody grants; back, it raises no term and deposes nobody.
  test("a follower partitioned for 20 election timeouts rejoins without raising a term or deposing the leader", () => {
    const cluster = fiveNodes(101);
    const { leader, term } = settled(cluster);
    const follower = cluster.ids.find((id) => id !== leader)!;
    const asked = recordSent(cluster, follower, ["PreVote", "RequestVote"]);
    cluster.network.partition([[follower]]);
    cluster.runFor(20 * cluster.settings.electionTimeoutMsMax);
    expectThat(cluster, asked.length >= 10 && asked.every(({ message }) => message.type === "PreVote"), `it kept asking for pre-votes only (${asked.length} asked)`);
    expectThat(cluster, cluster.status(follower)!.term === term, "its term did not move while cut off");
    cluster.network.heal();
    const { index } = proposeAt(cluster, leader);
    awaitCommitted(cluster, cluster.ids, index);
    cluster.runFor(2000);
    expectThat(cluster, cluster.leader() === leader && highestTerm(cluster) === term, `node ${leader} still leads term ${term}`);
    expectThat(cluster, cluster.checker.leaders().size === 1, "there was never another leader");
  });

  // §9.6 and §4.2.3: a server that stops (here: cut off both ways, as a paused process is) and resumes, one after another, changes nothing.
  test("paused-then-resumed servers, one at a time, cause no leader change", () => {
    const cluster = fiveNodes(102);
    const { leader, term } = settled(cluster);
    for (const id of cluster.ids.filter((id) => id !== leader)) {
      cluster.network.partition([[id]]);
      cluster.runFor(cluster.random.intBetween(2, 6) * cluster.settings.electionTimeoutMsMax);
      cluster.network.heal();
      cluster.runFor(cluster.settings.electionTimeoutMsMax);
    }
    const { index } = proposeAt(cluster, leader);
    awaitCommitted(cluster, cluster.ids, index);
    expectThat(cluster, cluster.leader() === leader && highestTerm(cluster) === term, `node ${leader} still leads term ${term}`);
    expectThat(cluster, cluster.checker.leaders().size === 1, "there was never another leader");
  });
});

describe("CheckQuorum (dissertation §6.2)", () => {
  // §6.2: a leader that hears from no majority for an election timeout steps down; meanwhile the majority elects another leader.
  test("an isolated leader steps down within about two election timeouts, and the majority elects another", () => {
    const cluster = fiveNodes(103);
    const { leader: old, term } = settled(cluster);
    cluster.network.partition([[old]]);
    const cutAtMs = cluster.nowMs;
    awaitThat(cluster, "the isolated leader steps down", () => cluster.status(old)!.role !== "leader", 3 * cluster.settings.electionTimeoutMsMax);
    const afterMs = cluster.nowMs - cutAtMs;
    expectThat(cluster, afterMs <= 2 * cluster.settings.electionTimeoutMsMax + 20, `it stepped down ${afterMs}ms after the cut`);
    expectThat(cluster, cluster.status(old)!.term === term, "in its own term");
    const majority = cluster.ids.filter((id) => id !== old);
    const current = awaitLeader(cluster, majority);
    awaitCommitted(cluster, majority, proposeAt(cluster, current).index);
    cluster.network.heal();
    awaitThat(cluster, "the old leader follows the new one", () => cluster.status(old)!.leaderId === current);
  });
});

describe("the controller's operations", () => {
  // §4.2.3: stickiness would hold an ordinary campaign back while the leader is healthy; the controller's forced campaign passes it.
  test("campaign() at a follower wins an election although the leader is healthy", () => {
    const cluster = fiveNodes(104);
    const { leader, term } = settled(cluster);
    const follower = cluster.ids.find((id) => id !== leader)!;
    expectThat(cluster, cluster.withNode(leader, (node) => node.campaign()) === false, "the leader refuses to campaign");
    expectThat(cluster, cluster.withNode(follower, (node) => node.campaign()), "the follower campaigns");
    awaitThat(cluster, `node ${follower} leads`, () => cluster.leader() === follower, 2000);
    expectThat(cluster, cluster.status(follower)!.term === term + 1, "in the next term");
    awaitCommitted(cluster, cluster.ids, proposeAt(cluster, follower).index);
  });

  // The controller's CONVERT_FOLLOWER: the leader follows in its term and sits out the next election, so another server wins it.
  test("stepDown() makes another server leader, and the old one asks for no vote for an election timeout", () => {
    const cluster = fiveNodes(105);
    const { leader: old, term } = settled(cluster);
    const asked = recordSent(cluster, old, ["PreVote", "RequestVote"]);
    const stepMs = cluster.nowMs;
    expectThat(cluster, cluster.withNode(old, (node) => node.stepDown()), "the leader steps down");
    expectThat(cluster, cluster.status(old)!.role === "follower" && cluster.status(old)!.term === term, "a follower in its term");
    const next = awaitLeader(cluster, cluster.ids, 3000);
    expectThat(cluster, next !== old, `another server leads (node ${next})`);
    const early = asked.filter(({ atMs }) => atMs - stepMs < cluster.settings.electionTimeoutMsMax);
    expectThat(cluster, early.length === 0, `the old leader asked for votes ${early.map(({ atMs }) => atMs - stepMs).join(",")}ms after stepping down`);
    awaitCommitted(cluster, cluster.ids, proposeAt(cluster, next).index);
  });
});

describe("leadership transfer (dissertation §3.10)", () => {
  // §3.10: the leader stops taking proposals, brings the target up to date and sends it TimeoutNow; the target wins with every committed entry.
  test("transferLeadership(t) makes t leader with no committed entry lost; proposals are refused meanwhile", () => {
    const cluster = fiveNodes(106);
    const { leader: old } = settled(cluster);
    let last = 0;
    for (let i = 0; i < 10; i++) last = proposeAt(cluster, old).index;
    awaitCommitted(cluster, [old], last);
    const target = cluster.ids.find((id) => id !== old)!;
    const result = cluster.withNode(old, (node) => node.transferLeadership(target));
    expectThat(cluster, result.ok, `the transfer starts (${result.ok ? "" : result.reason})`);
    const refused = cluster.propose(old, uniqueCommand());
    expectThat(cluster, !refused.ok && refused.reason === "transferring", "a proposal during the transfer is refused");
    awaitThat(cluster, `node ${target} leads`, () => cluster.leader() === target, 2000);
    const committed = cluster.checker.committedIndex;
    expectThat(cluster, committed >= last, "every entry committed before is committed");
    const { index } = proposeAt(cluster, target);
    awaitCommitted(cluster, cluster.ids, index);
    expectSameLogs(cluster, cluster.ids);
  });

  // §3.10: a transfer that cannot finish within an election timeout is abandoned, and the leader takes proposals again.
  test("a transfer to a partitioned target is abandoned after an election timeout, and proposals resume", () => {
    const cluster = fiveNodes(107);
    const { leader, term } = settled(cluster);
    const target = cluster.ids.find((id) => id !== leader)!;
    cluster.network.partition([[target]]);
    const startMs = cluster.nowMs;
    expectThat(cluster, cluster.withNode(leader, (node) => node.transferLeadership(target)).ok, "the transfer starts");
    const busy = cluster.withNode(leader, (node) => node.transferLeadership(cluster.ids.find((id) => id !== leader && id !== target)!));
    expectThat(cluster, !busy.ok, "a second transfer is refused while one is under way");
    expectThat(cluster, !cluster.propose(leader, uniqueCommand()).ok, "proposals are refused");
    awaitThat(cluster, "the transfer is abandoned", () => cluster.status(leader)!.transferTarget === null, 2 * cluster.settings.electionTimeoutMsMax);
    const tookMs = cluster.nowMs - startMs;
    // The core knows the time of its last tick, up to one tick interval (10 ms) before the transfer began.
    expectThat(cluster, tookMs >= cluster.settings.electionTimeoutMsMax - 10, `abandoned after ${tookMs}ms, not before an election timeout`);
    expectThat(cluster, cluster.leader() === leader && cluster.status(leader)!.term === term, "the leader kept its office");
    const { index } = proposeAt(cluster, leader);
    cluster.network.heal();
    awaitCommitted(cluster, cluster.ids, index);
  });
});

describe("restart: the election timer starts at the first tick", () => {
  // However long the runtime replays its log before it ticks, a restarted server gets a full election timeout to hear from a leader.
  test("a restarted node whose first tick comes late asks for no vote before a full election timeout after that tick", () => {
    const cluster = fiveNodes(108);
    const { leader } = settled(cluster);
    const restarted = cluster.ids.find((id) => id !== leader)!;
    cluster.crash(restarted);
    cluster.runFor(500);
    // Cut off, it will hear from no leader: only its own timer decides when it asks for votes.
    cluster.network.partition([[restarted]]);
    const asked = recordSent(cluster, restarted, ["PreVote", "RequestVote"]);
    const lateMs = 5 * cluster.settings.electionTimeoutMsMax;
    const restartMs = cluster.nowMs;
    cluster.restart(restarted, lateMs);
    awaitThat(cluster, "it asks for pre-votes at last", () => asked.length > 0, lateMs + 2 * cluster.settings.electionTimeoutMsMax);
    const firstTickMs = restartMs + lateMs;
    const waitedMs = asked[0]!.atMs - firstTickMs;
    expectThat(
      cluster,
      waitedMs >= cluster.settings.electionTimeoutMsMin && waitedMs <= cluster.settings.electionTimeoutMsMax + 10,
      `it asked ${waitedMs}ms after its first tick`,
    );
    cluster.network.heal();
    awaitThat(cluster, "it follows the leader", () => cluster.status(restarted)!.leaderId === leader);
    expectThat(cluster, cluster.leader() === leader, "no leader change");
  });
});
