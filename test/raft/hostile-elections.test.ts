/**
 * Forged election messages (dissertation §9.6 PreVote, §3.10 TimeoutNow,
 * forced RequestVote) reach a real RaftNode as the peer codec would let them
 * through: none may throw or reach an assertion (docs/architecture.md §6);
 * what no honest server sends is dropped and logged at warn with the sender.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { termMax, type Message } from "../../src/raft/index.ts";
import { drain, guardedNode, heartbeatFrom2, leaderOfTerm1, maxMs, ofType } from "./election-helpers.ts";

test("a TimeoutNow from a server that does not lead our term is dropped and logged", () => {
  const { node, logger } = guardedNode();
  node.tick(1);
  node.step(heartbeatFrom2(1));
  drain(node);
  node.step({ type: "TimeoutNow", term: 1, from: 3, to: 1 });
  assert.equal(ofType(drain(node), "RequestVote").length, 0);
  assert.deepEqual([node.status().term, node.status().role], [1, "follower"]);
  assert.ok(logger.has("warn", "dropped TimeoutNow from server 3"), JSON.stringify(logger.records));
  node.checkInvariants();
});

test("a TimeoutNow with no leader known, to a leader, or of a later term is dropped and logged", () => {
  const lone = guardedNode();
  lone.node.tick(1);
  lone.node.step({ type: "TimeoutNow", term: 0, from: 2, to: 1 });
  assert.equal(ofType(drain(lone.node), "RequestVote").length, 0);
  assert.ok(lone.logger.has("warn", "dropped TimeoutNow from server 2"));

  const leading = guardedNode();
  leaderOfTerm1(leading.node);
  leading.node.step({ type: "TimeoutNow", term: 1, from: 2, to: 1 });
  drain(leading.node);
  assert.equal(leading.node.status().role, "leader");
  assert.ok(leading.logger.has("warn", "dropped TimeoutNow from server 2"));

  const later = guardedNode();
  later.node.tick(1);
  later.node.step({ type: "TimeoutNow", term: 5, from: 2, to: 1 });
  assert.equal(ofType(drain(later.node), "RequestVote").length, 0, "a higher term names no leader (§5.1): not believed");
  assert.ok(later.logger.has("warn", "dropped TimeoutNow from server 2"));
  for (const { node } of [lone, leading, later]) node.checkInvariants();
});

test("forged PreVote grants: for a term never asked about, to a server not asking, from a stranger", () => {
  const { node, logger } = guardedNode({ hardState: { currentTerm: 3, votedFor: null, commitIndex: 0 } });
  node.tick(1);
  // Not a pre-candidate: grants change nothing.
  node.step({ type: "PreVoteResponse", term: 4, from: 2, to: 1, voteGranted: true });
  node.step({ type: "PreVoteResponse", term: 4, from: 3, to: 1, voteGranted: true });
  assert.deepEqual([node.status().term, node.status().role], [3, "follower"]);
  node.tick(1 + maxMs);
  drain(node);
  // Asking about term 4 now: a grant for another term is a forgery.
  node.step({ type: "PreVoteResponse", term: 4 + 1000, from: 2, to: 1, voteGranted: true });
  node.step({ type: "PreVoteResponse", term: termMax, from: 3, to: 1, voteGranted: true });
  assert.deepEqual([node.status().term, node.status().role], [3, "follower"]);
  assert.ok(logger.has("warn", "dropped PreVoteResponse from server 2"), JSON.stringify(logger.records));
  assert.ok(logger.has("warn", "dropped PreVoteResponse from server 3"));
  node.step({ type: "PreVoteResponse", term: 4, from: 9, to: 1, voteGranted: true });
  node.step({ type: "PreVoteResponse", term: 4, from: 1, to: 1, voteGranted: true });
  assert.deepEqual([node.status().term, node.status().role], [3, "follower"], "neither a stranger nor itself counts");
  assert.equal(ofType(drain(node), "RequestVote").length, 0);
  node.checkInvariants();
});

test("a PreVote with a huge term changes nothing; a refusal with one is a term like any other (§5.1)", () => {
  const { node } = guardedNode({ hardState: { currentTerm: 3, votedFor: 2, commitIndex: 0 } });
  node.tick(1);
  node.step({ type: "PreVote", term: termMax, from: 2, to: 1, lastLogIndex: 0, lastLogTerm: 0 });
  const [answer] = ofType(drain(node), "PreVoteResponse");
  assert.deepEqual([answer?.term, answer?.voteGranted], [termMax, true], "granted: an empty log is as up-to-date as ours");
  assert.deepEqual([node.status().term, node.status().votedFor], [3, 2]);
  node.step({ type: "PreVoteResponse", term: termMax, from: 3, to: 1, voteGranted: false });
  drain(node);
  assert.equal(node.status().term, termMax);
  // At the bound it neither pre-campaigns nor campaigns: its peers would refuse term 2^48 + 1.
  node.tick(1 + 3 * maxMs);
  const sent = drain(node);
  assert.equal(sent.filter((m) => m.type === "PreVote" || m.type === "RequestVote").length, 0);
  assert.equal(node.campaign(), false);
  node.checkInvariants();
});

test("a forced RequestVote from a non-member, or to another server, is dropped and logged", () => {
  const { node, logger } = guardedNode();
  node.tick(1);
  node.step(heartbeatFrom2(1));
  drain(node);
  const forged: Message[] = [
    { type: "RequestVote", term: 9, from: 9, to: 1, lastLogIndex: 0, lastLogTerm: 0, forced: true },
    { type: "RequestVote", term: 9, from: 3, to: 2, lastLogIndex: 0, lastLogTerm: 0, forced: true },
    { type: "RequestVote", term: 9, from: 1, to: 1, lastLogIndex: 0, lastLogTerm: 0, forced: true },
  ];
  for (const message of forged) node.step(message);
  assert.deepEqual(drain(node), []);
  assert.deepEqual([node.status().term, node.status().leaderId], [1, 2]);
  assert.ok(logger.has("warn", "ignored a RequestVote from server 9, which is no voter of the configuration in force"));
  assert.ok(logger.has("warn", "dropped a RequestVote from 3 to 2"));
  node.checkInvariants();
});

test("stale and duplicated election messages are harmless", () => {
  const { node } = guardedNode({ hardState: { currentTerm: 5, votedFor: null, commitIndex: 0 } });
  node.tick(1);
  const stale: Message[] = [
    { type: "TimeoutNow", term: 2, from: 2, to: 1 },
    { type: "PreVoteResponse", term: 2, from: 2, to: 1, voteGranted: false },
    { type: "PreVote", term: 1, from: 3, to: 1, lastLogIndex: 0, lastLogTerm: 0 },
    { type: "RequestVote", term: 4, from: 3, to: 1, lastLogIndex: 0, lastLogTerm: 0, forced: true },
  ];
  for (const message of [...stale, ...stale]) node.step(message);
  const sent = drain(node);
  assert.ok(sent.every((m) => (m.type === "PreVoteResponse" || m.type === "RequestVoteResponse") && !m.voteGranted && m.term === 5), JSON.stringify(sent));
  assert.equal(node.status().term, 5);
  node.checkInvariants();
});
