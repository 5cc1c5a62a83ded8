/**
 * A peer message that no honest server could send is dropped and logged with
 * its sender, never asserted on (docs/architecture.md §6): without
 * encryption anyone who reaches the forwarder can forge one, and one
 * assertion reached from the wire would stop every server that received it.
 * Each case builds a real RaftNode in a known state and feeds it a forgery
 * that passes the peer codec's shape checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RaftNode, SeededRandom, emptyHardState, raftConfigDefaults, type Entry, type Message } from "../../src/raft/index.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";
import { drain } from "./election-helpers.ts";

const command = (index: number, term: number, data = Uint8Array.of(index)): Entry => ({ index, term, type: "command", data });

/** Server 1 of 3 as a follower of server 2 in term 2, holding entries 1..3 of which 1..2 are committed. */
function committedFollower() {
  const logger = new RecordingLogger();
  const node = new RaftNode({
    config: { ...raftConfigDefaults, id: 1, peers: [1, 2, 3] },
    hardState: { ...emptyHardState, currentTerm: 2 },
    entries: [command(1, 1), command(2, 2), command(3, 2)],
    nowMs: 0,
    random: new SeededRandom(1),
    logger,
  });
  node.step(heartbeat(2, 2, 3, 2));
  drain(node);
  assert.equal(node.status().commitIndex, 2);
  return { node, logger };
}

function heartbeat(from: number, term: number, prevLogIndex: number, leaderCommit: number, entries: Entry[] = []): Message {
  return { type: "AppendEntries", term, from, to: 1, prevLogIndex, prevLogTerm: prevLogIndex === 0 ? 0 : 2, entries, leaderCommit, readRound: 0 };
}


test("an AppendEntries that rewrites a committed entry is dropped and logged, in the same term or a higher one", () => {
  for (const term of [2, 9]) {
    const { node, logger } = committedFollower();
    const from = term === 2 ? 2 : 3;
    node.step({ type: "AppendEntries", term, from, to: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [command(1, term, Uint8Array.of(0xc1))], leaderCommit: 5, readRound: 0 });
    const sent = drain(node);
    assert.deepEqual(node.logEntries().map((entry) => entry.term), [1, 2, 2], "the log is untouched");
    assert.equal(node.status().commitIndex, 2);
    assert.ok(!sent.some((message) => message.type === "AppendEntriesResponse" && message.success), "no acknowledgement");
    assert.ok(logger.has("warn", `dropped AppendEntries from server ${from}`), JSON.stringify(logger.records));
    node.checkInvariants();
  }
});

test("an AppendEntries from a second leader of the same term is dropped and logged", () => {
  const { node, logger } = committedFollower();
  node.step(heartbeat(3, 2, 3, 2, [command(4, 2)]));
  drain(node);
  assert.equal(node.status().lastLogIndex, 3);
  assert.equal(node.status().leaderId, 2);
  assert.ok(logger.has("warn", "dropped AppendEntries from server 3"));
});

test("an AppendEntries with more entries than any leader sends at once is dropped and logged", () => {
  const { node, logger } = committedFollower();
  const tooMany = Array.from({ length: raftConfigDefaults.entriesPerAppendMax + 1 }, (_, i) => command(4 + i, 2));
  node.step(heartbeat(2, 2, 3, 2, tooMany));
  drain(node);
  assert.equal(node.status().lastLogIndex, 3);
  assert.ok(logger.has("warn", "dropped AppendEntries from server 2"));
});

test("a leader drops an acknowledgement of entries it never sent, and commits nothing on its say-so", () => {
  const logger = new RecordingLogger();
  const node = new RaftNode({
    config: { ...raftConfigDefaults, id: 1, peers: [1, 2, 3] },
    hardState: emptyHardState,
    entries: [],
    nowMs: 0,
    random: new SeededRandom(1),
    logger,
  });
  node.campaign();
  drain(node);
  node.step({ type: "RequestVoteResponse", term: 1, from: 2, to: 1, voteGranted: true });
  drain(node);
  assert.equal(node.status().role, "leader");
  // The leader's no-op went out as entry 1; proposals 2 and 3 wait for the next Ready.
  node.propose(Uint8Array.of(1));
  node.propose(Uint8Array.of(2));
  // Before they are sent, a forged acknowledgement claims server 3 holds all three.
  node.step({ type: "AppendEntriesResponse", term: 1, from: 3, to: 1, success: true, matchIndex: 3, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  node.step({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  drain(node);
  assert.equal(node.status().commitIndex, 1, "only entry 1, which server 2 really acknowledged, commits");
  assert.ok(logger.has("warn", "dropped AppendEntriesResponse from server 3"), JSON.stringify(logger.records));
  node.checkInvariants();
});
