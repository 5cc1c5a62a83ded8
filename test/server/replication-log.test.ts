/**
 * The server's log of what the core cannot see for lack of a clock
 * (src/server, issue 13): a leader says when a follower goes silent, comes
 * back (how long it was away, how far behind) and catches up; a starting
 * server says when it has caught up with the leader; a server without a
 * leader says so once, with why (who answers, what a majority needs), then
 * a summary every 10 s instead of a line per campaign; nothing at all while
 * the cluster is healthy and idle.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FollowerProgress, NodeStatus } from "../../src/raft/index.ts";
import { CatchUpLog } from "../../src/server/catch-up-log.ts";
import { FollowerLog } from "../../src/server/follower-log.ts";
import { LeaderlessLog } from "../../src/server/leaderless-log.ts";
import { PeerContacts } from "../../src/runtime/peer-contacts.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";

const status = (fields: Partial<NodeStatus>): NodeStatus => ({
  id: 1,
  role: "follower",
  term: 2,
  leaderId: null,
  votedFor: null,
  commitIndex: 0,
  lastApplied: 0,
  lastLogIndex: 0,
  lastLogTerm: 0,
  logStartIndex: 0,
  snapshotIndex: 0,
  transferTarget: null,
  ...fields,
});

const messages = (logger: RecordingLogger): string[] => logger.records.map((record) => `${record.level} ${record.message}`);

test("a leader logs a follower that goes silent, comes back behind, and catches up; nothing while all answer", () => {
  const logger = new RecordingLogger();
  const log = new FollowerLog(1_000, logger);
  const leader = (lastLogIndex: number) => status({ role: "leader", leaderId: 1, lastLogIndex });
  let nowMs = 0;
  // Server 2 answers throughout, in step; server 4 is the one that goes away.
  const check = (lastLogIndex: number, four: Omit<FollowerProgress, "id">): void =>
    log.check(leader(lastLogIndex), [{ id: 2, matchIndex: lastLogIndex, lastHeardMs: nowMs }, { id: 4, ...four }], nowMs);
  // A healthy, idle minute: every follower answers every heartbeat.
  for (; nowMs <= 60_000; nowMs += 100) check(21, { matchIndex: 21, lastHeardMs: nowMs });
  assert.deepEqual(messages(logger), []);

  const lastHeardMs = nowMs - 100;
  for (; nowMs < lastHeardMs + 12_300; nowMs += 100) check(Math.round(21 + (nowMs - lastHeardMs) / 10), { matchIndex: 21, lastHeardMs });
  assert.deepEqual(messages(logger), ["warn server 4 has gone silent: last heard 1.1 s ago"]);

  check(1_225, { matchIndex: 21, lastHeardMs: lastHeardMs + 12_300 });
  nowMs += 100;
  check(1_225, { matchIndex: 600, lastHeardMs: nowMs });
  nowMs += 700;
  check(1_230, { matchIndex: 1_225, lastHeardMs: nowMs });
  nowMs += 100;
  check(1_230, { matchIndex: 1_230, lastHeardMs: nowMs });
  assert.deepEqual(messages(logger).slice(1), ["info server 4 is back (last heard 12.3 s ago), 1,204 entries behind", "info server 4 caught up: 1,204 entries in 0.8 s"]);
});

test("a server added to the configuration is a follower from then on; one removed is forgotten", () => {
  const logger = new RecordingLogger();
  const log = new FollowerLog(1_000, logger);
  const leader = status({ role: "leader", leaderId: 1, lastLogIndex: 50 });
  const two = { id: 2, matchIndex: 50, lastHeardMs: 0 };
  for (let nowMs = 0; nowMs <= 5_000; nowMs += 100) log.check(leader, [{ ...two, lastHeardMs: nowMs }], nowMs);
  // Server 6 is added at 5 s: it has not answered yet, and that is no news for a second.
  log.check(leader, [{ ...two, lastHeardMs: 5_100 }, { id: 6, matchIndex: 0, lastHeardMs: null }], 5_100);
  log.check(leader, [{ ...two, lastHeardMs: 5_900 }, { id: 6, matchIndex: 0, lastHeardMs: null }], 5_900);
  assert.deepEqual(messages(logger), []);
  log.check(leader, [{ ...two, lastHeardMs: 6_300 }, { id: 6, matchIndex: 0, lastHeardMs: null }], 6_300);
  assert.deepEqual(messages(logger), ["warn server 6 has not answered since it was added 1.2 s ago"]);
  // Removed while silent, then added again: it starts afresh.
  log.check(leader, [{ ...two, lastHeardMs: 7_000 }], 7_000);
  log.check(leader, [{ ...two, lastHeardMs: 8_000 }, { id: 6, matchIndex: 50, lastHeardMs: 8_000 }], 8_000);
  assert.equal(logger.records.length, 1, "no 'is back' for a server added afresh");
});

test("a follower that was down when this server became leader, and one already caught up when first seen again", () => {
  const logger = new RecordingLogger();
  const log = new FollowerLog(1_000, logger);
  const leader = status({ role: "leader", leaderId: 1, lastLogIndex: 50 });
  log.check(leader, [{ id: 3, matchIndex: 0, lastHeardMs: null }], 0);
  log.check(leader, [{ id: 3, matchIndex: 0, lastHeardMs: null }], 1_100);
  log.check(leader, [{ id: 3, matchIndex: 0, lastHeardMs: 5_000 }], 5_000);
  log.check(leader, [{ id: 3, matchIndex: 50, lastHeardMs: 6_000 }], 6_000);
  // Away and back between two checks, already holding everything (a restart that replayed it all, on an idle cluster).
  log.check(leader, [{ id: 3, matchIndex: 50, lastHeardMs: 6_000 }], 7_100);
  log.check(leader, [{ id: 3, matchIndex: 50, lastHeardMs: 9_000 }], 9_000);
  assert.deepEqual(messages(logger), [
    "warn server 3 has not answered since this server became leader 1.1 s ago",
    "info server 3 is back (not heard from before in this term), at most 50 entries behind",
    "info server 3 caught up: 50 entries in 1.0 s",
    "warn server 3 has gone silent: last heard 1.1 s ago",
    "info server 3 is back (last heard 3.0 s ago), in step",
  ]);
});

test("a starting server says once when it has applied what its leader committed", () => {
  const logger = new RecordingLogger();
  const log = new CatchUpLog(21, 1_000, logger);
  log.check(status({ lastApplied: 21 }), 0, 1_100);
  log.check(status({ leaderId: 3, lastApplied: 21 }), 1_225, 1_200);
  log.check(status({ leaderId: 3, lastApplied: 1_225 }), 1_225, 1_800);
  log.check(status({ leaderId: 3, lastApplied: 1_300 }), 1_300, 2_000);
  assert.deepEqual(messages(logger), ["info caught up with the leader, server 3: applied up to 1225, 1,204 entries after the replay, 0.8 s after start"]);

  const leading = new RecordingLogger();
  const asLeader = new CatchUpLog(21, 0, leading);
  asLeader.check(status({ role: "leader", leaderId: 1, lastApplied: 21 }), 21, 500);
  asLeader.check(status({ leaderId: 2, lastApplied: 30 }), 30, 5_000);
  assert.deepEqual(leading.records, [], "a server that led first had nothing to catch up on");
});

test("without a leader: one line once an election is overdue, with who answers, a summary every 10 s, one line when a leader is back", () => {
  const logger = new RecordingLogger();
  const contacts = new PeerContacts();
  const timing = { leaderSilenceMs: 110, reportAfterMs: 1_000, answerWindowMs: 1_000, summaryEveryMs: 10_000 };
  const log = new LeaderlessLog(timing, contacts, logger);
  // Server 3 led until 0; then only server 5 answers, pre-vote rounds every 150-300 ms (five a second).
  contacts.heard(3, 0);
  for (let nowMs = 0; nowMs <= 25_000; nowMs += 100) {
    if (nowMs % 200 === 0) contacts.heard(5, nowMs);
    log.check(status({ leaderId: 3, term: 4 }), [1, 2, 3, 4, 5], nowMs);
  }
  contacts.heard(2, 25_050);
  contacts.heard(3, 25_050);
  log.check(status({ leaderId: 2, term: 5 }), [1, 2, 3, 4, 5], 25_100);
  assert.deepEqual(messages(logger), [
    "info no leader for 1.0 s (term 4): 2 of 5 servers answer (1, 5); a majority needs 3",
    "info still no leader after 11.0 s (term 4): 2 of 5 servers answer (1, 5); a majority needs 3",
    "info still no leader after 21.0 s (term 4): 2 of 5 servers answer (1, 5); a majority needs 3",
    "info leader: server 2 (term 5), after 24.9 s without one",
  ]);
});

test("an ordinary election, shorter than the report delay, logs nothing here", () => {
  const logger = new RecordingLogger();
  const contacts = new PeerContacts();
  const log = new LeaderlessLog({ leaderSilenceMs: 110, reportAfterMs: 1_000, answerWindowMs: 1_000, summaryEveryMs: 10_000 }, contacts, logger);
  contacts.heard(2, 0);
  for (let nowMs = 0; nowMs < 400; nowMs += 100) log.check(status({ leaderId: 2 }), [1, 2, 3], nowMs);
  contacts.heard(3, 400);
  log.check(status({ leaderId: 3, term: 3 }), [1, 2, 3], 400);
  assert.deepEqual(logger.records, []);
});

test("the voters of the configuration in force count; a server that is none, removed or waiting to be added, reports nothing", () => {
  const timing = { leaderSilenceMs: 110, reportAfterMs: 1_000, answerWindowMs: 1_000, summaryEveryMs: 10_000 };
  const contacts = new PeerContacts();
  contacts.heard(6, 0);
  const voter = new RecordingLogger();
  const removed = new RecordingLogger();
  const asVoter = new LeaderlessLog(timing, contacts, voter);
  const asRemoved = new LeaderlessLog(timing, contacts, removed);
  for (let nowMs = 0; nowMs <= 1_500; nowMs += 100) {
    asVoter.check(status({ leaderId: null }), [1, 6, 7], nowMs);
    asRemoved.check(status({ leaderId: null }), [6, 7, 8], nowMs);
  }
  assert.deepEqual(messages(voter), ["info no leader for 1.0 s (term 2): 2 of 3 servers answer (1, 6): electing a leader"]);
  assert.deepEqual(removed.records, []);
});
