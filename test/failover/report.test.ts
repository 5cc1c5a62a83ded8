/**
 * What demo:failover prints and decides (src/failover/demo-report.ts,
 * writers.ts): the timeline of a round, the fixed summary line, a round
 * with a lost write or a problem counting as failed, and which value read
 * back keeps an acknowledged write.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { roundFailed, roundLines, summaryLines } from "../../src/failover/demo-report.ts";
import type { RoundResult } from "../../src/failover/failover-round.ts";
import { WriterPool, keepsAcknowledged } from "../../src/failover/writers.ts";

const round = (n: number, electionMs: number, firstWriteMs: number, extra: Partial<RoundResult> = {}): RoundResult => ({
  round: n,
  mode: "kill",
  fault: `kill -9 server 1 (leader in term ${n}, pid 100)`,
  oldLeader: { id: 1, term: n },
  firstCandidate: { ms: electionMs - 10, id: 2, term: n + 1 },
  newLeader: { ms: electionMs, id: 2, term: n + 1 },
  leaderKnownByMajorityMs: electionMs + 5,
  firstWriteMs,
  healed: "restarted server 1",
  catchUpMs: 40,
  writesAcknowledged: 100,
  writesUnknown: 0,
  keysChecked: 32,
  lost: 0,
  lostKeys: [],
  problems: [],
  ...extra,
});

test("a round's timeline, in order", () => {
  const lines = roundLines(round(1, 200, 250));
  assert.equal(lines[0], "round 1: kill -9 server 1 (leader in term 1, pid 100)");
  assert.match(lines[1] as string, /^ {2}t=0 +fault$/);
  assert.match(lines[2] as string, /t=\+190 ms +first server campaigning: server 2, term 2/);
  assert.match(lines[3] as string, /t=\+200 ms +new leader: server 2, term 2/);
  assert.match(lines[5] as string, /t=\+250 ms +first write acknowledged again/);
  assert.match(lines[6] as string, /restarted server 1; server 1 caught up in 40 ms; 100 writes acknowledged \(0 unknown\), 32 keys read back, 0 lost/);
});

test("the summary ends with the fixed line", () => {
  const results = [round(1, 200, 250), round(2, 180, 300), round(3, 220, 260)];
  const lines = summaryLines(results, "kill", undefined);
  assert.equal(lines.at(-1), "rounds=3 mode=kill failed=0 acknowledged=300 lost=0 election_median_ms=200 unavailable_median_ms=260");
  assert.ok(lines.some((line) => line.includes("election (fault → new leader):") && line.includes("median 200 ms")));
  assert.ok(lines.includes("unavailability histogram:"));
});

test("a forwarder's round: no election, and the longest pauses after the fault and before it; the summary's median is the pause", () => {
  const forwarderRound = (n: number, afterFaultMs: number, extra: Partial<RoundResult> = {}): RoundResult => {
    const { firstCandidate: _candidate, newLeader: _leader, leaderKnownByMajorityMs: _known, firstWriteMs: _write, ...rest } = round(n, 0, 0);
    return { ...rest, mode: "forwarder", fault: "kill -9 forwarder 1 of 2 (server 1 leads term 1)", healed: "restarted forwarder 1", pauses: { afterFaultMs, beforeFaultMs: 20 }, ...extra };
  };
  const lines = roundLines(forwarderRound(1, 24));
  assert.equal(lines[0], "round 1: kill -9 forwarder 1 of 2 (server 1 leads term 1)");
  assert.match(lines[2] as string, /no server campaigned: no election$/);
  assert.match(lines[3] as string, /longest pause in acknowledged writes: 24 ms after the fault, 20 ms in the half second before it$/);
  assert.match(lines[4] as string, /^ {2}restarted forwarder 1; 100 writes acknowledged/);
  const summary = summaryLines([forwarderRound(1, 24), forwarderRound(2, 30), forwarderRound(3, 28)], "forwarder", undefined);
  assert.ok(summary.includes("  rounds with an election: 0"), summary.join("\n"));
  assert.equal(summary.at(-1), "rounds=3 mode=forwarder failed=0 acknowledged=300 lost=0 election_median_ms=-1 unavailable_median_ms=28");
});

test("a lost write or a problem fails the round", () => {
  assert.equal(roundFailed(round(1, 200, 250)), false);
  const lost = round(2, 200, 250, { lost: 1, lostKeys: [{ key: "k", expected: "v2", read: "v1" }] });
  assert.equal(roundFailed(lost), true);
  assert.ok(roundLines(lost).includes(`  LOST: k: acknowledged "v2", read "v1"`));
  assert.equal(roundFailed(round(3, 200, 250, { problems: ["the step-down was refused"] })), true);
  assert.match(summaryLines([lost], "kill", "round 2: timed out").at(-1) as string, /failed=2 acknowledged=100 lost=1/);
});

test("an acknowledged write is kept by its value, or by a later write of unknown outcome", () => {
  const record = { lastAcked: "v2", unknownAfter: new Set(["v3"]) };
  assert.equal(keepsAcknowledged(record, "v2"), true);
  assert.equal(keepsAcknowledged(record, "v3"), true);
  assert.equal(keepsAcknowledged(record, "v1"), false);
  assert.equal(keepsAcknowledged(record, null), false);
  assert.equal(keepsAcknowledged({ lastAcked: undefined, unknownAfter: new Set() }, null), true);
});

test("the longest pause counts from the last acknowledgement before the window, and to its end", async () => {
  const pool = new WriterPool([], "p");
  pool.acks.push({ atMs: 90, term: 1 }, { atMs: 105, term: 1 }, { atMs: 140, term: 1 }, { atMs: 150, term: 1 });
  assert.equal(pool.longestPause(100, 160), 35);
  assert.equal(pool.longestPause(100, 200), 50, "no acknowledgement after 150 to the window's end");
  assert.equal(pool.longestPause(0, 50), 50, "none at all");
  await pool.stop();
});
