/**
 * The election rules on a real RaftNode: PreVote (dissertation §9.6), leader
 * stickiness (dissertation §4.2.3), CheckQuorum (dissertation §6.2), the
 * controller's campaign and step-down, leadership transfer (dissertation
 * §3.10) and the election timer started by the first tick.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { emptyHardState, type Entry } from "../../src/raft/index.ts";
import { drain, guardedNode, heartbeatFrom2, leaderOfTerm1, maxMs, minMs, ofType } from "./election-helpers.ts";

const noop = (index: number, term: number): Entry => ({ index, term, type: "noop", data: new Uint8Array(0) });

test("PreVote: a timed-out follower asks for term + 1 without changing its term or vote, and campaigns on a majority of pre-votes", () => {
  const { node } = guardedNode({ hardState: { currentTerm: 2, votedFor: 3, commitIndex: 0 } });
  node.tick(1);
  node.tick(1 + maxMs);
  const sent = drain(node);
  const preVotes = ofType(sent, "PreVote");
  assert.deepEqual(preVotes.map((m) => [m.to, m.term]), [[2, 3], [3, 3]]);
  assert.equal(ofType(sent, "RequestVote").length, 0, "no real campaign yet");
  assert.deepEqual([node.status().term, node.status().votedFor, node.status().role], [2, 3, "follower"]);
  node.step({ type: "PreVoteResponse", term: 3, from: 2, to: 1, voteGranted: true });
  const votes = ofType(drain(node), "RequestVote");
  assert.deepEqual([node.status().term, node.status().role], [3, "candidate"]);
  assert.equal(votes.length, 2);
  assert.ok(votes.every((m) => m.term === 3 && m.forced === undefined), "an ordinary campaign is not forced");
});

test("PreVote: a refusal in the same term is counted, one from a later term makes the pre-candidate follow it (§5.1)", () => {
  const { node } = guardedNode({ hardState: { currentTerm: 2, votedFor: null, commitIndex: 0 } });
  node.tick(1);
  node.tick(1 + maxMs);
  drain(node);
  node.step({ type: "PreVoteResponse", term: 2, from: 2, to: 1, voteGranted: false });
  assert.deepEqual([node.status().term, node.status().role], [2, "follower"]);
  node.step({ type: "PreVoteResponse", term: 7, from: 3, to: 1, voteGranted: false });
  drain(node);
  assert.deepEqual([node.status().term, node.status().role, node.status().votedFor], [7, "follower", null]);
  // A late grant for the old round does nothing.
  node.step({ type: "PreVoteResponse", term: 3, from: 2, to: 1, voteGranted: true });
  assert.deepEqual([node.status().term, node.status().role], [7, "follower"]);
});

test("a PreVote never changes the receiver's term or vote; it is granted only to an up-to-date log with no leader heard lately", () => {
  const { node } = guardedNode({ hardState: { currentTerm: 2, votedFor: 2, commitIndex: 0 }, entries: [noop(1, 1), noop(2, 2)] });
  node.tick(1);
  const answer = (lastLogIndex: number, lastLogTerm: number, term = 3) => {
    node.step({ type: "PreVote", term, from: 3, to: 1, lastLogIndex, lastLogTerm });
    const [response] = ofType(drain(node), "PreVoteResponse");
    assert.ok(response !== undefined);
    assert.deepEqual([node.status().term, node.status().votedFor], [2, 2], "term and vote untouched");
    return response;
  };
  assert.deepEqual(pick(answer(2, 2)), [3, true], "granted, carrying the term asked about");
  assert.deepEqual(pick(answer(1, 2)), [2, false], "a shorter log is refused (§5.4.1), with our term");
  assert.deepEqual(pick(answer(5, 1)), [2, false], "an older last term is refused");
  assert.deepEqual(pick(answer(2, 2, 2)), [2, false], "a pre-vote for a term not above ours is refused");
  // Node 2 leads term 2 and is heard from: pre-votes are refused for electionTimeoutMsMin.
  node.step({ type: "AppendEntries", term: 2, from: 2, to: 1, prevLogIndex: 2, prevLogTerm: 2, entries: [], leaderCommit: 0, readRound: 0 });
  drain(node);
  node.tick(1 + minMs - 1);
  assert.deepEqual(pick(answer(9, 2)), [2, false], "leader stickiness");
  node.tick(1 + minMs);
  assert.deepEqual(pick(answer(9, 2)), [3, true], "once the leader is silent for electionTimeoutMsMin, granted again");
});

const pick = (message: { term: number; voteGranted: boolean }): [number, boolean] => [message.term, message.voteGranted];

test("stickiness: a RequestVote is ignored, term and all, while the leader is heard from, unless forced", () => {
  const { node } = guardedNode();
  node.tick(1);
  node.step(heartbeatFrom2(1));
  drain(node);
  node.tick(20);
  node.step({ type: "RequestVote", term: 2, from: 3, to: 1, lastLogIndex: 0, lastLogTerm: 0 });
  assert.deepEqual(drain(node), [], "no answer");
  assert.deepEqual([node.status().term, node.status().votedFor, node.status().leaderId], [1, null, 2], "term not adopted");
  node.step({ type: "RequestVote", term: 2, from: 3, to: 1, lastLogIndex: 0, lastLogTerm: 0, forced: true });
  const [response] = ofType(drain(node), "RequestVoteResponse");
  assert.deepEqual([response?.term, response?.voteGranted], [2, true], "a forced request passes");
  assert.deepEqual([node.status().term, node.status().votedFor], [2, 3]);
});

test("stickiness lapses electionTimeoutMsMin after the leader was last heard from", () => {
  const { node } = guardedNode();
  node.tick(1);
  node.step(heartbeatFrom2(1));
  drain(node);
  node.tick(1 + minMs);
  node.step({ type: "RequestVote", term: 2, from: 3, to: 1, lastLogIndex: 0, lastLogTerm: 0 });
  const [response] = ofType(drain(node), "RequestVoteResponse");
  assert.deepEqual([response?.term, response?.voteGranted], [2, true]);
});

test("with the guards off, a RequestVote is answered at once, as before", () => {
  const { node } = guardedNode({ config: { checkQuorum: false } });
  node.tick(1);
  node.step(heartbeatFrom2(1));
  drain(node);
  node.step({ type: "RequestVote", term: 2, from: 3, to: 1, lastLogIndex: 0, lastLogTerm: 0 });
  assert.equal(ofType(drain(node), "RequestVoteResponse")[0]?.voteGranted, true);
});

test("CheckQuorum: a leader that hears from no majority for an election timeout steps down in its term, drops its reads and logs it", () => {
  const { node, logger } = guardedNode();
  const start = leaderOfTerm1(node);
  assert.ok(node.readIndex(42));
  drain(node);
  // Node 2's acknowledgement above counts for the first period; then silence.
  let now = start;
  let dropped: readonly number[] = [];
  while (node.status().role === "leader" && now < start + 3 * maxMs) {
    now += 10;
    node.tick(now);
    while (node.hasReady()) {
      const ready = node.ready();
      dropped = [...dropped, ...ready.droppedReads];
      node.advance(ready);
    }
  }
  assert.equal(node.status().role, "follower");
  assert.equal(node.status().term, 1, "the same term");
  assert.ok(now <= start + 2 * maxMs + 10, `stepped down ${now - start}ms after taking office`);
  assert.ok(now > start + maxMs, "not before a whole period without a majority");
  assert.deepEqual(dropped, [42]);
  assert.ok(logger.has("info", "no majority heard from"), JSON.stringify(logger.records));
});

test("CheckQuorum: a leader that keeps hearing from a majority stays", () => {
  const { node } = guardedNode();
  let now = leaderOfTerm1(node);
  for (let i = 0; i < 200; i++) {
    now += 10;
    node.tick(now);
    drain(node);
    node.step({ type: "AppendEntriesResponse", term: 1, from: 3, to: 1, success: true, matchIndex: 0, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
    drain(node);
  }
  assert.equal(node.status().role, "leader");
});

test("campaign(): campaigns at once with forced RequestVotes, even with a healthy leader; false when leading", () => {
  const { node } = guardedNode();
  node.tick(1);
  node.step(heartbeatFrom2(1));
  drain(node);
  assert.equal(node.campaign(), true);
  const votes = ofType(drain(node), "RequestVote");
  assert.equal(votes.length, 2);
  assert.ok(votes.every((m) => m.forced === true && m.term === 2));
  assert.deepEqual([node.status().role, node.status().term, node.status().votedFor], ["candidate", 2, 1]);
  node.step({ type: "RequestVoteResponse", term: 2, from: 3, to: 1, voteGranted: true });
  drain(node);
  assert.equal(node.status().role, "leader");
  assert.equal(node.campaign(), false);
  assert.equal(drain(node).filter((m) => m.type === "RequestVote").length, 0);
  assert.equal(node.status().term, 2);
});

test("stepDown(): the leader follows in its term and asks for no vote for at least a full election timeout; false when not leading", () => {
  const { node } = guardedNode();
  const start = leaderOfTerm1(node);
  assert.equal(node.stepDown(), true);
  drain(node);
  assert.deepEqual([node.status().role, node.status().term, node.status().leaderId], ["follower", 1, null]);
  assert.equal(node.stepDown(), false);
  let now = start;
  let firstAskMs: number | null = null;
  while (firstAskMs === null && now < start + 10 * maxMs) {
    now += 5;
    node.tick(now);
    if (drain(node).some((m) => m.type === "PreVote" || m.type === "RequestVote")) firstAskMs = now;
  }
  assert.ok(firstAskMs !== null, "it stands again eventually");
  assert.ok(firstAskMs - start >= maxMs, `it asked for votes ${firstAskMs - start}ms after stepping down`);
});

test("transferLeadership(): refusals, proposals refused meanwhile, TimeoutNow once the target matches, and an abort after an election timeout", () => {
  const { node, logger } = guardedNode();
  const { node: follower } = guardedNode();
  assert.deepEqual(follower.transferLeadership(2), { ok: false, reason: "server 1 is not the leader" });
  let now = leaderOfTerm1(node);
  assert.equal(node.transferLeadership(1).ok, false);
  assert.match(String((node.transferLeadership(1) as { reason: string }).reason), /is this server/);
  assert.match(String((node.transferLeadership(9) as { reason: string }).reason), /not a server of this cluster/);
  assert.ok(node.propose(Uint8Array.of(7)).ok);
  drain(node);
  // Node 3 has acknowledged nothing: it must be brought up to date first.
  assert.deepEqual(node.transferLeadership(3), { ok: true });
  assert.equal(node.status().transferTarget, 3);
  assert.match(String((node.transferLeadership(2) as { reason: string }).reason), /already under way/);
  assert.deepEqual(node.propose(Uint8Array.of(8)), { ok: false, reason: "transferring", leaderId: 3 });
  assert.equal(ofType(drain(node), "TimeoutNow").length, 0, "not before node 3 holds the whole log");
  node.step({ type: "AppendEntriesResponse", term: 1, from: 3, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  assert.equal(ofType(drain(node), "TimeoutNow").length, 0, "entry 2 is still missing");
  node.step({ type: "AppendEntriesResponse", term: 1, from: 3, to: 1, success: true, matchIndex: 2, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  assert.deepEqual(ofType(drain(node), "TimeoutNow").map((m) => [m.to, m.term]), [[3, 1]]);
  // Node 3 never campaigns (the TimeoutNow was lost): after an election timeout the leader gives up and takes proposals again.
  const startedMs = now;
  while (node.status().transferTarget !== null) {
    now += 10;
    node.tick(now);
    drain(node);
    node.step({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 2, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
    drain(node);
  }
  assert.ok(now - startedMs >= maxMs && now - startedMs <= maxMs + 10, `abandoned after ${now - startedMs}ms`);
  assert.equal(node.status().role, "leader");
  assert.ok(node.propose(Uint8Array.of(9)).ok);
  assert.ok(logger.has("info", "abandoned the transfer of leadership to server 3"));
});

test("a transfer ends when the target's forced RequestVote arrives: the old leader steps down for it despite stickiness", () => {
  const { node } = guardedNode();
  leaderOfTerm1(node);
  assert.ok(node.transferLeadership(2).ok);
  assert.equal(ofType(drain(node), "TimeoutNow").length, 1, "node 2 already holds the whole log");
  node.step({ type: "RequestVote", term: 2, from: 2, to: 1, lastLogIndex: 1, lastLogTerm: 1, forced: true });
  const [response] = ofType(drain(node), "RequestVoteResponse");
  assert.equal(response?.voteGranted, true);
  assert.deepEqual([node.status().role, node.status().term, node.status().transferTarget], ["follower", 2, null]);
});

test("TimeoutNow from the leader of our term makes a follower campaign at once, with forced votes", () => {
  const { node, logger } = guardedNode();
  node.tick(1);
  node.step(heartbeatFrom2(1));
  drain(node);
  node.step({ type: "TimeoutNow", term: 1, from: 2, to: 1 });
  const votes = ofType(drain(node), "RequestVote");
  assert.deepEqual(votes.map((m) => [m.to, m.term, m.forced]), [[2, 2, true], [3, 2, true]]);
  assert.ok(logger.has("info", "server 2 hands leadership to this server"));
});

test("restart: a node does not campaign before a full election timeout after its first tick, however late that tick", () => {
  const { node } = guardedNode({ hardState: { currentTerm: 4, votedFor: 2, commitIndex: 1 }, entries: [noop(1, 4)] });
  const firstTickMs = 10 * maxMs;
  node.tick(firstTickMs);
  assert.equal(drain(node).filter((m) => m.type === "PreVote").length, 0, "not at the first tick");
  let now = firstTickMs;
  let askedAt: number | null = null;
  while (askedAt === null) {
    now += 1;
    node.tick(now);
    if (drain(node).some((m) => m.type === "PreVote")) askedAt = now;
  }
  assert.ok(askedAt - firstTickMs >= minMs && askedAt - firstTickMs <= maxMs, `asked ${askedAt - firstTickMs}ms after the first tick`);
});

test("without electionTimerFromFirstTick, a late first tick campaigns at once (what the rule prevents)", () => {
  const { node } = guardedNode({ hardState: emptyHardState, config: { electionTimerFromFirstTick: false } });
  node.tick(10 * maxMs);
  assert.equal(drain(node).filter((m) => m.type === "PreVote").length, 2);
});
