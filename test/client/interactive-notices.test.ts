/**
 * The interactive client's notices (interactive-notices.ts): one per change,
 * not one per attempt. The events are those ZraftClient emits for one PUT
 * with servers 1 to 3 of five down and 4 and 5 answering NO_LEADER, round
 * after round; they once printed a notice each.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { OperationNotices } from "../../client/interactive-notices.ts";
import type { ClusterConfig } from "../../src/config/cluster-config.ts";
import type { FailoverEvent, RetryEvent } from "../../src/client/zraft-client.ts";

const config = { servers: [1, 2, 3, 4, 5].map((id) => ({ id, client: `tcp://127.0.0.1:${5000 + id - 1}` })) } as unknown as ClusterConfig;
const endpointOf = (id: number): string => `tcp://127.0.0.1:${5000 + id - 1}`;
const failover = (from: number, reason: FailoverEvent["reason"] = "disconnected"): FailoverEvent => ({ from, to: (from % 5) + 1, endpoint: endpointOf((from % 5) + 1), reason });
const noLeader = (server: number, attempt: number): RetryEvent => ({ reason: "NO_LEADER", attempt, delayMs: 100, server });

test("one PUT with three of five servers down: each server gone once, 'no leader' once, then attempts and time", () => {
  const notices = new OperationNotices(config);
  notices.begin(0);
  const said: string[] = [];
  let attempt = 0;
  for (let round = 0; round < 6; round++) {
    for (const id of [1, 2, 3]) said.push(notices.failover(failover(id, round === 0 ? "no-reply" : "disconnected")) ?? "");
    said.push(notices.retry(noLeader(4, (attempt += 4))) ?? "");
    said.push(notices.retry(noLeader(5, (attempt += 1))) ?? "");
  }
  assert.deepEqual(
    said.filter((line) => line !== ""),
    [
      "  ✗ server 1 (port 5000) is not answering, trying server 2 (port 5001)",
      "  ✗ server 2 (port 5001) is not answering, trying server 3 (port 5002)",
      "  ✗ server 3 (port 5002) is not answering, trying server 4 (port 5003)",
      "  … no leader yet (server 4 (port 5003) knows none): waiting for an election…",
    ],
  );
  assert.equal(notices.end("failed", 10_040), "  gave up after 31 attempts in 10.0 s");
});

test("a server gone is news again once it has answered; a new request says 'no leader' and a redirect again", () => {
  const notices = new OperationNotices(config);
  notices.begin(0);
  assert.ok(notices.failover(failover(1)) !== undefined);
  assert.equal(notices.failover(failover(1, "no-reply")), undefined, "closed, then silent: the same server gone");
  const redirect = { from: 2, to: 3, endpoint: endpointOf(3) };
  assert.match(notices.redirect(redirect) ?? "", /redirected from server 2 \(port 5001\) to the leader, server 3 \(port 5002\)/);
  assert.equal(notices.redirect(redirect), undefined);
  notices.answered(1);
  assert.equal(notices.end("succeeded", 1500), "  done after 5 attempts in 1.5 s");

  notices.begin(2000);
  assert.ok(notices.failover(failover(1)) !== undefined, "server 1 answered since: its going away is news");
  assert.ok(notices.redirect(redirect) !== undefined);
  assert.ok(notices.retry(noLeader(4, 3)) !== undefined);
});

test("a request that only followed a redirect ends without a summary", () => {
  const notices = new OperationNotices(config);
  notices.begin(0);
  notices.redirect({ from: 1, to: 3, endpoint: endpointOf(3) });
  assert.equal(notices.end("succeeded", 50), undefined);
});
