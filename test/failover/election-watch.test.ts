/**
 * Reading an election off status samples (src/failover/election-watch.ts):
 * samples of the old term count for nothing; the first later term is the
 * first server campaigning; the first leader in a later term is the new
 * leader; the majority moment needs three of five naming the same leader
 * in the same term, by each server's latest sample.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ElectionWatch, type StatusObservation } from "../../src/failover/election-watch.ts";
import { settledLeader } from "../../src/failover/cluster-target.ts";
import type { StatusReply } from "../../src/client/zraft-client.ts";

const sample = (atMs: number, id: number, role: StatusObservation["role"], term: number, leaderId: number | null): StatusObservation => ({ atMs, id, role, term, leaderId });

test("an election after the leader of term 3 died", () => {
  const watch = new ElectionWatch(3, 5);
  watch.observe(sample(10, 2, "follower", 3, 1));
  assert.equal(watch.firstCandidate, undefined);
  watch.observe(sample(160, 4, "candidate", 4, null));
  watch.observe(sample(162, 2, "follower", 4, null));
  assert.deepEqual(watch.firstCandidate, { atMs: 160, id: 4, term: 4 });
  watch.observe(sample(170, 4, "leader", 4, 4));
  assert.deepEqual(watch.newLeader, { atMs: 170, id: 4, term: 4 });
  assert.equal(watch.knownByMajority, undefined, "only the leader itself names it so far");
  watch.observe(sample(175, 2, "follower", 4, 4));
  assert.equal(watch.knownByMajority, undefined, "two of five");
  watch.observe(sample(180, 3, "follower", 3, 1));
  assert.equal(watch.knownByMajority, undefined, "server 3 is still in the old term");
  watch.observe(sample(190, 3, "follower", 4, 4));
  assert.deepEqual(watch.knownByMajority, { atMs: 190, id: 4, term: 4 });
  watch.observe(sample(195, 5, "leader", 5, 5));
  assert.deepEqual(watch.newLeader, { atMs: 170, id: 4, term: 4 }, "the first moments stay");
});

test("a split vote: the majority must name one leader of one term", () => {
  const watch = new ElectionWatch(1, 5);
  watch.observe(sample(150, 1, "candidate", 2, null));
  watch.observe(sample(151, 2, "candidate", 2, null));
  watch.observe(sample(152, 3, "follower", 2, null));
  assert.equal(watch.newLeader, undefined);
  watch.observe(sample(300, 2, "leader", 3, 2));
  watch.observe(sample(301, 1, "follower", 3, 2));
  watch.observe(sample(302, 3, "follower", 2, 1)); // a stale view: term 2
  assert.equal(watch.knownByMajority, undefined);
  watch.observe(sample(303, 4, "follower", 3, 2));
  assert.deepEqual(watch.knownByMajority, { atMs: 303, id: 2, term: 3 });
});

test("a reply that arrives after a later one of the same server is ignored", () => {
  const watch = new ElectionWatch(1, 3);
  watch.observe(sample(200, 1, "leader", 2, 1));
  watch.observe(sample(210, 2, "follower", 2, 1));
  assert.deepEqual(watch.knownByMajority, { atMs: 210, id: 1, term: 2 });
  const other = new ElectionWatch(1, 3);
  other.observe(sample(200, 2, "follower", 2, 1));
  other.observe(sample(150, 2, "follower", 1, null));
  other.observe(sample(205, 1, "leader", 2, 1));
  assert.deepEqual(other.knownByMajority, { atMs: 205, id: 1, term: 2 });
});

test("a settled leader leads in the top term and is named by a majority", () => {
  const status = (id: number, role: StatusReply["role"], term: number, leaderId: number | null): StatusReply =>
    ({ ok: true, id, pid: 1000 + id, role, term, leaderId, commitIndex: 0, lastApplied: 0, lastLogIndex: 0, votedFor: null, uptimeMs: 0 }) as StatusReply;
  assert.equal(settledLeader([status(1, "leader", 2, 1), status(2, "follower", 2, 1)], 5)?.id, undefined);
  assert.equal(settledLeader([status(1, "leader", 2, 1), status(2, "follower", 2, 1), status(3, "follower", 2, 1)], 5)?.id, 1);
  assert.equal(settledLeader([status(1, "leader", 2, 1), status(2, "follower", 2, 1), status(3, "candidate", 3, null)], 5), undefined);
});
