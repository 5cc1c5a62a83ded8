/**
 * Proves ZraftClient.watch against fake servers (docs/protocol.md §4 watch,
 * §9): it long-polls page after page, each from the `next` of the one
 * before, and yields every event once in log order; when its server dies it
 * goes on at another from where it was; COMPACTED ends it with
 * CompactedError naming the oldest index; an abort or close() ends it at
 * once, even mid-poll; and a held poll does not hold up the client's other
 * operations.
 */
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { LazyPirateSocket } from "../../src/client/lazy-pirate-socket.ts";
import { ZraftClient, type WatchEvent } from "../../src/client/zraft-client.ts";
import { CompactedError } from "../../src/protocol/errors.ts";
import { FakeCluster, FakeStore, behaviours, fakeChanges as changes } from "./fake-cluster.ts";

const fast = { requestTimeoutMs: 200, deadlineMs: 5_000, backoffMsMin: 5, backoffMsMax: 20 } as const;

const clusters: FakeCluster[] = [];
const clients: ZraftClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const cluster of clusters.splice(0)) await cluster.close();
});

async function fakeCluster(count: number): Promise<FakeCluster> {
  const cluster = await FakeCluster.start(count);
  clusters.push(cluster);
  return cluster;
}

function clientOf(cluster: FakeCluster, serverId = 1): ZraftClient {
  const client = new ZraftClient({ config: cluster.config, serverId, ...fast });
  clients.push(client);
  return client;
}

/** The first `count` events a watch yields; leaving the loop ends the watch. */
async function take(watch: AsyncIterable<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const taken: WatchEvent[] = [];
  for await (const event of watch) {
    taken.push(event);
    if (taken.length === count) break;
  }
  return taken;
}

test("watch yields every matching change once, in log order, polling from each page's next", async () => {
  const cluster = await fakeCluster(1);
  cluster.server(1).behaviour = behaviours.journal();
  const client = clientOf(cluster);
  const events = await take(client.watch("a/", { from: 1 }), 5);
  assert.deepEqual(events, changes.filter((event) => event.key.startsWith("a/")));
  const polls = cluster.server(1).requestsOf("watch");
  assert.deepEqual(
    polls.map((poll) => [poll.prefix, poll.from, poll.waitMs]),
    [
      ["a/", 1, 10_000],
      ["a/", 5, 10_000],
      ["a/", 11, 10_000],
    ],
  );
});

test("watch without from starts at the next change the server applies", async () => {
  const cluster = await fakeCluster(1);
  cluster.server(1).behaviour = behaviours.journal();
  const client = clientOf(cluster);
  const stopper = new AbortController();
  // The fake has nothing past its last change: the watch polls on until it is stopped.
  const events: WatchEvent[] = [];
  const watching = (async () => {
    for await (const event of client.watch("", { signal: stopper.signal })) events.push(event);
  })();
  while (cluster.server(1).requestsOf("watch").length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  stopper.abort();
  await watching;
  assert.deepEqual(events, []);
  const [first, second] = cluster.server(1).requestsOf("watch");
  assert.equal(first?.from, undefined);
  assert.equal(second?.from, changes.at(-1)!.index + 1);
});

test("when its server dies mid-watch, the watch goes on at another from where it was: nothing lost, nothing twice", async () => {
  const cluster = await fakeCluster(2);
  const serve = behaviours.journal();
  // Server 1 answers the first page (indexes 1 and 2, next 4), then dies on the next poll before answering it.
  cluster.server(1).behaviour = (request, server) => (typeof request.from === "number" && request.from >= 4 ? "close" : serve(request, server));
  cluster.server(2).behaviour = serve;
  const client = clientOf(cluster);
  const failovers: unknown[] = [];
  client.on("failover", (event) => failovers.push(event));
  const events = await take(client.watch("", { from: 1 }), changes.length);
  assert.deepEqual(events, changes);
  assert.deepEqual(cluster.server(2).requestsOf("watch")[0]?.from, 4, "server 2 was asked from where server 1 left off");
  assert.equal(failovers.length, 1, "the failover is reported on the client");
});

test("COMPACTED ends the watch with CompactedError naming the oldest index still served", async () => {
  const cluster = await fakeCluster(1);
  cluster.server(1).behaviour = behaviours.journal(6);
  const client = clientOf(cluster);
  await assert.rejects(take(client.watch("", { from: 2 }), 1), (error: unknown) => {
    assert.ok(error instanceof CompactedError);
    assert.equal(error.code, "COMPACTED");
    assert.equal(error.oldest, 6);
    assert.match(error.message, /before index 6 are no longer kept/);
    return true;
  });
  assert.deepEqual(await take(client.watch("", { from: 6 }), 2), [changes[4], changes[5]]);
});

test("an abort, or close(), ends a watch at once while its poll is held; its sockets are closed", async () => {
  const cluster = await fakeCluster(1);
  // Silent: a poll held for its whole waitMs.
  cluster.server(1).behaviour = behaviours.silent();
  const client = clientOf(cluster);
  const stopper = new AbortController();
  const aborted = take(client.watch("", { signal: stopper.signal }), 1);
  while (cluster.server(1).requestsOf("watch").length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
  const started = performance.now();
  stopper.abort();
  assert.deepEqual(await aborted, []);
  assert.ok(performance.now() - started < 1_000, "ended at once, not after the poll's 10 s");

  const closed = take(client.watch(""), 1);
  while (cluster.server(1).requestsOf("watch").length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  client.close();
  await assert.rejects(closed, /closed/);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(LazyPirateSocket.monitorsRunning, 0, "no socket left open");
});

test("a poll held by the server does not hold up the client's other operations", async () => {
  const cluster = await fakeCluster(1);
  const store = new FakeStore();
  const leader = behaviours.leader(store);
  cluster.server(1).behaviour = (request, server) => (request.op === "watch" ? "no-reply" : leader(request, server));
  const client = clientOf(cluster);
  const stopper = new AbortController();
  const watching = take(client.watch("", { signal: stopper.signal }), 1);
  while (cluster.server(1).requestsOf("watch").length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal((await client.put("k", "v")).ok, true);
  assert.equal((await client.get("k")).value, "v");
  stopper.abort();
  await watching;
});
