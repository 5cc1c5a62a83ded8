/**
 * The controller on real processes (docs/protocol.md §1, §4 admin):
 * `status` shows every server, `leader` names the leader, `timeout N` makes
 * a follower win although the leader is healthy (its votes are forced past
 * leader stickiness), `step-down N` hands over to another server,
 * `transfer N` moves leadership to N without losing a write, a transfer to
 * a dead server fails clearly, and `shutdown N` stops N with exit code 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestCluster, runCommand, waitFor } from "./harness.ts";

const ctl = (cluster: TestCluster, ...args: string[]) => runCommand(["client/ctl.ts", "--config", cluster.configPath, ...args], { timeoutMs: 30_000 });

test("status, leader, timeout, step-down, transfer and shutdown, end to end", async (t) => {
  const cluster = await TestCluster.start(t, { electionTimeoutMs: [300, 600], heartbeatMs: 50 });
  const first = await cluster.findLeader();

  const status = await ctl(cluster, "status");
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^SERVER\s+STATE\s+ROLE\s+TERM\s+LEADER/m);
  assert.equal(status.stdout.match(/\bup\s+(leader|follower)\b/g)?.length, 5, status.stdout);
  assert.match(status.stdout, new RegExp(`server ${first.id} leads term ${first.term}; 5 of 5 servers answer`));
  const leader = await ctl(cluster, "leader", "--json");
  assert.deepEqual(JSON.parse(leader.stdout).leader, { id: first.id, term: first.term });

  // timeout: a follower campaigns and wins, although the leader is healthy.
  const challenger = cluster.serverIds.find((id) => id !== first.id) as number;
  const timeout = await ctl(cluster, "timeout", String(challenger));
  assert.equal(timeout.code, 0, timeout.stderr);
  const second = await waitFor(async () => {
    const now = await cluster.findLeader();
    return now.id === challenger && now.term > first.term ? now : undefined;
  }, { timeoutMs: 10_000, what: `server ${challenger} to win its forced campaign` });
  const onLeader = await ctl(cluster, "timeout", String(second.id));
  assert.equal(onLeader.code, 1);
  assert.match(onLeader.stderr, /already the leader/);

  // step-down: another server takes over; a follower asked to step down says who leads.
  const client = cluster.client();
  await client.put("before-step-down", "kept");
  const stepDown = await ctl(cluster, "step-down", String(second.id));
  assert.equal(stepDown.code, 0, stepDown.stderr);
  const third = await waitFor(async () => {
    const now = await cluster.findLeader();
    return now.id !== second.id && now.term > second.term ? now : undefined;
  }, { timeoutMs: 10_000, what: "another leader after the step-down" });
  const notLeader = await ctl(cluster, "step-down", String(second.id));
  assert.equal(notLeader.code, 1);
  assert.match(notLeader.stderr, /NOT_LEADER|NO_LEADER/);

  // transfer: leadership moves to the target; nothing acknowledged is lost.
  const target = cluster.serverIds.find((id) => id !== third.id && id !== second.id) as number;
  await client.put("before-transfer", "kept");
  const transfer = await ctl(cluster, "transfer", String(target));
  assert.equal(transfer.code, 0, transfer.stderr);
  assert.match(transfer.stdout, new RegExp(`leadership moved from server ${third.id} to server ${target} in \\d+ ms`));
  assert.equal((await cluster.findLeader()).id, target);
  assert.equal((await client.get("before-step-down")).value, "kept");
  assert.equal((await client.get("before-transfer")).value, "kept");
  const self = await ctl(cluster, "transfer", String(target));
  assert.equal(self.code, 1);
  assert.match(self.stderr, /already the leader/);

  // A transfer to a dead server fails clearly, and the leader leads on.
  const dead = cluster.serverIds.find((id) => id !== target) as number;
  await cluster.kill(dead);
  const toDead = await ctl(cluster, "transfer", String(dead));
  assert.equal(toDead.code, 1);
  assert.match(toDead.stderr, new RegExp(`server ${dead} did not take over`));
  assert.equal((await cluster.findLeader()).id, target);

  // shutdown: the server answers, stops and exits 0.
  const leaving = cluster.serverIds.find((id) => id !== target && id !== dead) as number;
  const shutdown = await ctl(cluster, "shutdown", String(leaving));
  assert.equal(shutdown.code, 0, shutdown.stderr);
  const exit = await waitFor(() => cluster.process(`server-${leaving}`)?.exit, { timeoutMs: 10_000, what: `server ${leaving} to exit` });
  assert.equal(exit.code, 0);
  const after = await ctl(cluster, "status");
  assert.equal(after.code, 1, "not every server answers");
  assert.match(after.stdout, new RegExp(`^${leaving}\\s+down`, "m"));
});
