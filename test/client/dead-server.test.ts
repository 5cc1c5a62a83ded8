/**
 * Proves that ZraftClient notices a server that has gone away at once, from
 * its socket's connection events, instead of waiting out its request timeout
 * (docs/protocol.md §9): a server that closes its socket with a request
 * outstanding, or while the client is idle, is left for the next one
 * straight away with failover reason "disconnected", and a write keeps its
 * client and seq; a server that is not running (it refuses the connection)
 * is left at once too. What must still wait for the timeout does: a server that
 * stays connected and never answers, and a CURVE handshake that fails
 * (docs/protocol.md §10: a refused client sees only its own timeout).
 * Servers that all drop the connection are retried in paced rounds, not in
 * a tight loop; many operations leave no socket monitor behind; and the
 * interactive client says which server went away, once.
 */
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curveKeyPair } from "zeromq";
import { ZraftError } from "../../src/protocol/errors.ts";
import { ZraftClient, type FailoverEvent, type ZraftClientOptions } from "../../src/client/zraft-client.ts";
import { LazyPirateSocket } from "../../src/client/lazy-pirate-socket.ts";
import { FakeCluster, FakeStore, behaviours, withServersNotRunning, type FakeServerOptions } from "./fake-cluster.ts";
import { TerminalSession } from "../e2e/terminal-session.ts";

/** Far longer than a failover on a dropped connection should take: only the timeout path could come near it. */
const longTimeoutMs = 15_000;
/** What "at once" is held to: it takes a few ms, but a loaded 2-core test machine can stall a process for
 * seconds; a third of the request timeout still tells the two paths apart. */
const promptlyMs = 5_000;

const clusters: FakeCluster[] = [];
const clients: ZraftClient[] = [];

async function startCluster(count = 3, options: FakeServerOptions = {}): Promise<FakeCluster> {
  const cluster = await FakeCluster.start(count, options);
  clusters.push(cluster);
  return cluster;
}

function newClient(cluster: FakeCluster, options: Partial<ZraftClientOptions> = {}): { client: ZraftClient; failovers: FailoverEvent[] } {
  const client = new ZraftClient({ config: cluster.config, requestTimeoutMs: longTimeoutMs, deadlineMs: 20_000, backoffMsMin: 5, backoffMsMax: 20, ...options });
  clients.push(client);
  const failovers: FailoverEvent[] = [];
  client.on("failover", (event) => failovers.push(event));
  return { client, failovers };
}

async function timed<T>(label: string, operation: () => Promise<T>): Promise<{ result: T; elapsedMs: number }> {
  const startedMs = performance.now();
  const result = await operation();
  const elapsedMs = performance.now() - startedMs;
  console.log(`# ${label}: ${elapsedMs.toFixed(1)} ms`);
  return { result, elapsedMs };
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const endMs = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > endMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(clusters.splice(0).map((cluster) => cluster.close()));
});

test("a leader that closes its socket with a write outstanding: failover at once, reason disconnected, same client and seq", async () => {
  const cluster = await startCluster();
  const store = cluster.elect(2);
  cluster.server(1).behaviour = behaviours.dies();
  const { client, failovers } = newClient(cluster, { serverId: 1 });

  const { result: reply, elapsedMs } = await timed("failover after the server closed mid-request", () => client.put("k", "v"));
  assert.equal(reply.ok, true);
  assert.ok(elapsedMs < promptlyMs, `took ${elapsedMs.toFixed(0)} ms with a ${longTimeoutMs} ms request timeout`);
  assert.deepEqual(failovers, [{ from: 1, to: 2, endpoint: cluster.server(2).endpoint, reason: "disconnected" }]);
  assert.equal(cluster.server(1).closed, true);
  const [lost] = cluster.server(1).requestsOf("put");
  const [resent] = cluster.server(2).requestsOf("put");
  assert.ok(lost !== undefined && resent !== undefined);
  assert.deepEqual([resent.client, resent.seq], [lost.client, lost.seq], "the write is sent on with its client and seq");
  assert.equal(store.applied, 1);
  assert.equal(client.currentServerId, 2);
});

test("a read whose server dies fails over at once too", async () => {
  const cluster = await startCluster();
  cluster.elect(3).data.set("k", "v");
  cluster.server(1).behaviour = behaviours.dies();
  cluster.server(2).behaviour = behaviours.dies();
  const { client, failovers } = newClient(cluster, { serverId: 1 });
  const { result, elapsedMs } = await timed("two dead servers, then an answer", () => client.get("k"));
  assert.equal(result.value, "v");
  assert.ok(elapsedMs < promptlyMs, `took ${elapsedMs.toFixed(0)} ms`);
  assert.deepEqual(failovers.map((event) => [event.from, event.to, event.reason]), [[1, 2, "disconnected"], [2, 3, "disconnected"]]);
});

test("a leader that goes away while the client is idle: the next write fails over at once", async () => {
  const cluster = await startCluster();
  const store = new FakeStore();
  cluster.elect(1, store);
  const { client, failovers } = newClient(cluster, { serverId: 1 });
  await client.put("k", "v1");
  // Killed between two writes, as in a benchmark that kills the leader a busy client was writing to.
  await cluster.server(1).close();
  cluster.elect(2, store);
  const { elapsedMs } = await timed("failover when the server had closed while the client was idle", () => client.put("k", "v2"));
  assert.ok(elapsedMs < promptlyMs, `took ${elapsedMs.toFixed(0)} ms`);
  assert.deepEqual(failovers.map((event) => [event.from, event.to, event.reason]), [[1, 2, "disconnected"]]);
  assert.equal(store.data.get("k"), "v2");

  // Also when the client noticed the drop well before its next request (its socket is reconnecting meanwhile).
  await cluster.server(2).close();
  cluster.elect(3, store);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const later = await timed("failover when the drop was noticed 300 ms before the request", () => client.put("k", "v3"));
  assert.ok(later.elapsedMs < promptlyMs, `took ${later.elapsedMs.toFixed(0)} ms`);
  assert.deepEqual(failovers.at(-1), { from: 2, to: 3, endpoint: cluster.server(3).endpoint, reason: "disconnected" });
});

test("a follower that still names the dead leader is asked again at the first backoff step until it names the new one", async () => {
  const cluster = await startCluster();
  const store = new FakeStore();
  cluster.server(1).behaviour = behaviours.dies();
  // Until its election timeout, a follower still names the dead leader.
  cluster.server(2).behaviour = behaviours.follower(() => cluster.server(1));
  cluster.server(3).behaviour = behaviours.follower(() => cluster.server(1));
  const electLater = setInterval(() => {
    if (cluster.server(2).requestsOf("put").length >= 4) {
      cluster.elect(3, store);
      clearInterval(electLater);
    }
  }, 1);
  try {
    const { client, failovers } = newClient(cluster, { serverId: 1, backoffMsMin: 5, backoffMsMax: 1_000 });
    const redirects: unknown[] = [];
    const delays: number[] = [];
    client.on("redirect", (event) => redirects.push([event.from, event.to]));
    client.on("retry", (event) => delays.push(event.delayMs));
    const { elapsedMs } = await timed("asked the follower again until it named the new leader", () => client.put("k", "v"));
    assert.ok(elapsedMs < promptlyMs, `took ${elapsedMs.toFixed(0)} ms`);
    assert.deepEqual(failovers.map((event) => [event.from, event.reason]), [[1, "disconnected"]]);
    // Never sent back to the server that dropped the connection, and no backoff that grows past the election.
    assert.deepEqual(redirects, [[2, 3]]);
    assert.ok(delays.length >= 3 && delays.every((delayMs) => delayMs === 5), JSON.stringify(delays));
    assert.equal(store.applied, 1);
  } finally {
    clearInterval(electLater);
  }
});

test("status(id) of a server that closes the connection fails at once with TIMEOUT", async () => {
  const cluster = await startCluster();
  cluster.server(1).behaviour = behaviours.dies();
  const { client } = newClient(cluster);
  const startedMs = performance.now();
  await assert.rejects(client.status(1, { timeoutMs: longTimeoutMs }), (error: unknown) => {
    assert.ok(error instanceof ZraftError && error.code === "TIMEOUT", String(error));
    assert.match(error.message, /server 1 .* closed the connection/);
    return true;
  });
  assert.ok(performance.now() - startedMs < promptlyMs);
});

test("a server that stays connected but never answers still takes the full request timeout", async () => {
  const cluster = await startCluster();
  cluster.elect(2);
  cluster.server(1).behaviour = behaviours.silent();
  const requestTimeoutMs = 400;
  const { client, failovers } = newClient(cluster, { serverId: 1, requestTimeoutMs });
  const { elapsedMs } = await timed("failover past a silent server", () => client.put("k", "v"));
  assert.ok(elapsedMs >= requestTimeoutMs * 0.9, `took ${elapsedMs.toFixed(0)} ms`);
  assert.deepEqual(failovers.map((event) => [event.from, event.to, event.reason]), [[1, 2, "no-reply"]]);
});

test("a server that is not running at all (it refuses the connection) is left at once, as not answering", async () => {
  const cluster = await startCluster();
  const store = cluster.elect(2);
  const config = await withServersNotRunning(cluster.config, [1]);
  // A fresh client that tries server 1 first, as the one-shot command does.
  const { client, failovers } = newClient(cluster, { config });
  const { elapsedMs } = await timed("failover past a server that was never up", () => client.put("k", "v"));
  assert.ok(elapsedMs < promptlyMs, `took ${elapsedMs.toFixed(0)} ms with a ${longTimeoutMs} ms request timeout`);
  // Not "closed the connection": it never had one. The interactive client says "not answering".
  assert.deepEqual(failovers.map((event) => [event.from, event.to, event.reason]), [[1, 2, "no-reply"]]);
  assert.equal(store.applied, 1);
  assert.equal(client.currentServerId, 2);
});

test("CURVE: a refused handshake still looks like silence, and an accepted one that is dropped fails over at once", async () => {
  const serverKeys = curveKeyPair();
  const clientKeys = curveKeyPair();
  const curve = { serverPublicKey: serverKeys.publicKey, publicKey: clientKeys.publicKey, secretKey: clientKeys.secretKey };

  // A plaintext server: the CURVE client's handshake fails, and libzmq reports a disconnect that must not count.
  const plain = await startCluster(1);
  plain.server(1).behaviour = behaviours.leader(new FakeStore());
  const refused = newClient(plain, { curve });
  const startedMs = performance.now();
  await assert.rejects(refused.client.status(1, { timeoutMs: 400 }), (error: unknown) => {
    assert.ok(error instanceof ZraftError && error.code === "TIMEOUT", String(error));
    assert.match(error.message, /did not answer within 400 ms/);
    return true;
  });
  assert.ok(performance.now() - startedMs >= 360);

  const cluster = await startCluster(2, { curveSecretKey: serverKeys.secretKey });
  cluster.elect(2);
  cluster.server(1).behaviour = behaviours.dies();
  const { client, failovers } = newClient(cluster, { serverId: 1, curve });
  const { elapsedMs } = await timed("failover over CURVE after the server closed mid-request", () => client.put("k", "v"));
  assert.ok(elapsedMs < promptlyMs, `took ${elapsedMs.toFixed(0)} ms`);
  assert.deepEqual(failovers.map((event) => event.reason), ["disconnected"]);
});

test("servers that all drop the connection (a request too large for them) are retried in paced rounds until the deadline", async () => {
  const cluster = await startCluster(3, { maxMessageSize: 1024 });
  cluster.elect(1);
  const deadlineMs = 1_000;
  const { client, failovers } = newClient(cluster, { deadlineMs, backoffMsMin: 50, backoffMsMax: 200 });
  const startedMs = performance.now();
  await assert.rejects(client.put("k", "x".repeat(4096)), (error: unknown) => {
    assert.ok(error instanceof ZraftError && error.code === "TIMEOUT", String(error));
    return true;
  });
  const elapsedMs = performance.now() - startedMs;
  console.log(`# ${failovers.length} failovers in ${elapsedMs.toFixed(0)} ms`);
  assert.ok(elapsedMs >= deadlineMs - 5 && elapsedMs < deadlineMs + promptlyMs, `took ${elapsedMs.toFixed(0)} ms`);
  // The last attempt may have had only a few ms left and timed out.
  assert.ok(failovers.slice(0, -1).every((event) => event.reason === "disconnected"), JSON.stringify(failovers.map((event) => event.reason)));
  // Unpaced it would be thousands; paced, rounds of three 25-200 ms apart.
  assert.ok(failovers.length >= 3 && failovers.length <= 60, `${failovers.length} failovers`);
  assert.equal(cluster.servers.reduce((sum, server) => sum + server.requests.length, 0), 0, "libzmq dropped every request");
  // The servers are still up: a request they can take gets through on the same client.
  assert.equal((await client.put("k", "small")).ok, true);
});

test("no socket monitor, listener or rejection is left behind after many operations, failovers and close()", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on("unhandledRejection", onUnhandled);
  try {
    await waitUntil(() => LazyPirateSocket.monitorsRunning === 0, "the earlier tests' monitors to end");
    const cluster = await startCluster(3);
    cluster.elect(1);
    const { client, failovers } = newClient(cluster, { requestTimeoutMs: 200 });
    const listeners = client.listenerCount("failover");
    let most = 0;
    for (let i = 0; i < 200; i++) {
      // Writes to the leader on one socket, and status of each server in turn, each on a fresh socket.
      if (i % 2 === 0) await client.put(`k${i % 10}`, i);
      else assert.equal((await client.status((i % 3) + 1)).id, (i % 3) + 1);
      most = Math.max(most, LazyPirateSocket.monitorsRunning);
    }
    // One socket at a time; the monitor of one just closed ends a moment after it (longer on a loaded machine), but they do not pile up:
    // 100 sockets were opened.
    assert.ok(most <= 20, `${most} monitors at once`);
    assert.equal(client.listenerCount("failover"), listeners);
    assert.deepEqual(failovers, []);
    client.close();

    // And failovers past servers that drop the connection, each client then closed.
    for (let i = 0; i < 10; i++) {
      const dying = await startCluster(2);
      dying.elect(2);
      dying.server(1).behaviour = behaviours.dies();
      const other = newClient(dying, { serverId: 1 });
      await other.client.put("k", i);
      assert.deepEqual(other.failovers.map((event) => event.reason), ["disconnected"]);
      other.client.close();
    }
    await waitUntil(() => LazyPirateSocket.monitorsRunning === 0, "every monitor to end after close()");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("the interactive client says which server closed the connection, once however often it is retried", async (t) => {
  const cluster = await startCluster(3);
  const dir = mkdtempSync(join(tmpdir(), "zraft-dead-server-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const configPath = join(dir, "cluster.json");
  writeFileSync(configPath, JSON.stringify({ servers: cluster.config.servers }));
  cluster.server(1).behaviour = behaviours.leader(new FakeStore());
  cluster.server(2).behaviour = behaviours.noLeader();
  cluster.server(3).behaviour = behaviours.noLeader();

  const session = TerminalSession.start(["client/main.ts", "--config", configPath]);
  t.after(async () => {
    await session.kill();
    if ((t as unknown as { passed?: boolean }).passed === false) process.stderr.write(`--- terminal ---\n${session.screen}\n`);
  });
  await session.choose("Which server", "server 1");
  // Server 1 dies on the write; servers 2 and 3 know no leader until the client has been back to server 1 once.
  cluster.server(1).behaviour = behaviours.dies();
  const noLeaderAnswers = (): number => cluster.server(2).requestsOf("put").length + cluster.server(3).requestsOf("put").length;
  const electLater = setInterval(() => {
    if (noLeaderAnswers() >= 3) {
      cluster.elect(3);
      clearInterval(electLater);
    }
  }, 10);
  t.after(() => clearInterval(electLater));
  const mark = session.mark();
  await session.choose("What next?", "PUT");
  await session.answer("key", "k");
  await session.answer("value", "v");
  const transcript = await session.waitForText(/OK: k stored at index 1/, { since: mark, timeoutMs: 15_000 });
  const port = new URL(cluster.server(1).endpoint).port;
  const notices = transcript.match(/server 1 \(port \d+\)[^\n]*trying server/g) ?? [];
  assert.deepEqual(notices, [`server 1 (port ${port}) closed the connection, trying server`], transcript);
  assert.match(transcript, new RegExp(`server 1 \\(port ${port}\\) closed the connection, trying server 2 \\(port \\d+\\)`));
  assert.ok(noLeaderAnswers() >= 3, "the client went round to server 1 again");
  await session.choose("What next?", "quit");
  assert.deepEqual(await session.exited, { code: 0, signal: null });
});
