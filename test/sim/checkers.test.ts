/**
 * The lost-commit checker on its own: no core at hand breaks it without
 * breaking its own invariants first (a log starts at or below its snapshot,
 * and a snapshot ends at an applied entry), so a hand-made history shows
 * that it fires, as the teeth test shows for the other checkers. A leader
 * whose log starts after committed entries must store a snapshot that
 * reaches its log's start, ends at a committed position, and holds the
 * state every replica had there (dissertation §5.1).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Entry, LogIndex, NodeStatus, SnapshotMeta } from "../../src/raft/index.ts";
import { type CheckerName, type LogView, SafetyChecker } from "./checkers.ts";

const entry = (index: number, term: number): Entry => ({ index, term, type: "command", data: Uint8Array.of(index) });
/** Entries 1..10 of term 1 and 11..20 of term 2. */
const log = Array.from({ length: 20 }, (_, i) => entry(i + 1, i < 10 ? 1 : 2));

function status(id: number, role: NodeStatus["role"], term: number, commitIndex: LogIndex, logStartIndex: LogIndex, snapshotIndex: LogIndex): NodeStatus {
  return {
    id,
    role,
    term,
    leaderId: null,
    votedFor: null,
    commitIndex,
    lastApplied: commitIndex,
    lastLogIndex: 20,
    lastLogTerm: 2,
    logStartIndex,
    snapshotIndex,
    transferTarget: null,
  };
}

/** A view of `log` that starts after `start`. */
const viewFrom = (start: LogIndex): LogView => ({
  logEntry: (index) => (index > start ? log[index - 1] : undefined),
  logTerm: (index) => (index >= start ? log[index - 1]?.term ?? 0 : undefined),
});

/** A checker that saw node 1 lead term 2 and commit entries 1..15, each applied with history hash = its index. */
function checkerAfterCommits(): SafetyChecker {
  const checker = new SafetyChecker((name: CheckerName, details: string) => {
    throw Object.assign(new Error(details), { checker: name });
  });
  checker.checkNode(status(1, "leader", 2, 15, 0, 0), viewFrom(0), null);
  for (let index = 1; index <= 15; index++) checker.checkHistory(1, index, index, "applied");
  return checker;
}

const leaderOfTerm3 = (checker: SafetyChecker, start: LogIndex, stored: { meta: SnapshotMeta; hash: number } | null): void =>
  checker.checkNode(status(2, "leader", 3, 15, start, stored?.meta.index ?? 0), viewFrom(start), stored);

const lostCommit = (pattern: RegExp) => (error: unknown): boolean => {
  assert.equal((error as { checker?: string }).checker, "lost commit");
  assert.match((error as Error).message, pattern);
  return true;
};

test("a leader whose stored snapshot reaches its log's start, at a committed position with the replicas' state, passes", () => {
  leaderOfTerm3(checkerAfterCommits(), 8, { meta: { index: 12, term: 2 }, hash: 12 });
});

test("a leader whose log starts past its stored snapshot has lost the committed entries in between", () => {
  assert.throws(() => leaderOfTerm3(checkerAfterCommits(), 12, { meta: { index: 10, term: 1 }, hash: 10 }), lostCommit(/stored snapshot ends at 10/));
  assert.throws(() => leaderOfTerm3(checkerAfterCommits(), 12, null), lostCommit(/stores no snapshot/));
});

test("a leader whose stored snapshot ends at a position other than the committed one, or holds another state, has lost commits", () => {
  assert.throws(() => leaderOfTerm3(checkerAfterCommits(), 12, { meta: { index: 12, term: 1 }, hash: 12 }), lostCommit(/ends at \(12,1\)/));
  assert.throws(() => leaderOfTerm3(checkerAfterCommits(), 12, { meta: { index: 12, term: 2 }, hash: 99 }), lostCommit(/not the state node 1 had there/));
});
