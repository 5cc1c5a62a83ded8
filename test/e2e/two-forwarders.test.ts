/**
 * No single point of failure on the bus: a cluster with two forwarders
 * (docs/protocol.md §2: servers connect to every forwarder in the config)
 * works with every message arriving twice, and losing either forwarder
 * causes no election and only a short pause in acknowledged writes; a
 * restarted forwarder is rejoined by every server, after which the other
 * can go too. Every acknowledged write is read back at the end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { TestCluster } from "./harness.ts";

/** Far above what is expected (a few ms, as a write's own latency), far below an election's disruption on a loaded machine. */
const pauseBoundMs = 1_000;

test("with two forwarders, killing either causes no election and only a short pause in writes; a restarted one is rejoined", async (t) => {
  const cluster = await TestCluster.start(t, { forwarders: 2 });
  const leader = await cluster.findLeader();
  const acks: number[] = [];
  const written = new Map<string, string>();
  let writing = true;
  const writers = [0, 1].map(async (writer) => {
    const client = cluster.client({ requestTimeoutMs: 1_000 });
    for (let n = 0; writing; n++) {
      const key = `two-forwarders/w${writer}/${n}`;
      await client.put(key, `v${n}`);
      written.set(key, `v${n}`);
      acks.push(performance.now());
    }
  });

  for (const index of [0, 1]) {
    await sleep(500);
    const killedAt = performance.now();
    await cluster.killForwarder(index);
    await sleep(2_000); // several election timeouts
    const window = acks.filter((at) => at >= killedAt - 100);
    assert.ok(window.length > 10, `writes went on after forwarder ${index} was killed (${window.length} acknowledged)`);
    const longestPause = Math.max(...window.slice(1).map((at, i) => at - window[i]!));
    t.diagnostic(`forwarder ${index} killed: longest pause in acknowledged writes ${longestPause.toFixed(1)} ms over ${window.length} writes`);
    assert.ok(longestPause < pauseBoundMs, `longest pause in acknowledged writes after killing forwarder ${index}: ${longestPause.toFixed(0)} ms`);
    for (const status of (await cluster.statuses()).values()) {
      assert.equal(status.term, leader.term, `server ${status.id} is still in term ${leader.term} without forwarder ${index}`);
      assert.equal(status.leaderId, leader.id);
    }
    await cluster.restartForwarder(index);
  }
  writing = false;
  await Promise.all(writers);

  const reader = cluster.client();
  for (const [key, value] of written) assert.equal((await reader.get(key)).value, value, `${key} holds its acknowledged value`);
});
