/**
 * Proves that ZraftClient follows the client protocol (docs/protocol.md §9) and
 * the Lazy Pirate pattern (ZeroMQ Guide, chapter 4) against fake servers:
 * every op's request and reply, values returned exactly as stored,
 * NOT_LEADER redirects, failover past a silent server with a fresh socket,
 * NO_LEADER/TIMEOUT retried with backoff and the same client/seq (so a
 * write is applied once), BAD_REQUEST and an exhausted deadline raised as
 * ZraftError, queued concurrent callers, and close().
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ZraftError } from "../../src/protocol/errors.ts";
import { ZraftClient, type FailoverEvent, type RedirectEvent, type RetryEvent } from "../../src/client/zraft-client.ts";
import { FakeCluster, FakeStore, behaviours, type FakeServer } from "./fake-cluster.ts";

const fast = { requestTimeoutMs: 200, deadlineMs: 5_000, backoffMsMin: 5, backoffMsMax: 20 } as const;

describe("ZraftClient against fake servers", () => {
  let cluster: FakeCluster;
  const clients: ZraftClient[] = [];
  const newClient = (options: { serverId?: number; requestTimeoutMs?: number; deadlineMs?: number } = {}): ZraftClient => {
    const client = new ZraftClient({ config: cluster.config, ...fast, ...options });
    clients.push(client);
    return client;
  };

  before(async () => {
    cluster = await FakeCluster.start(3);
  });
  beforeEach(() => {
    for (const server of cluster.servers) server.requests.length = 0;
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster.close();
  });

  test("listAll reads page after page until the server says there is no more", async () => {
    cluster.elect(1);
    const client = newClient();
    for (let i = 0; i < 7; i++) await client.put(`p/${i}`, i);
    await client.put("q", "other prefix");
    const first = await client.list("p/");
    assert.deepEqual([first.entries.length, first.more], [2, true], "the fake's pages hold two pairs");
    const second = await client.list("p/", undefined, { after: "p/1" });
    assert.deepEqual(second.entries.map(([key]) => key), ["p/2", "p/3"]);
    const all = await client.listAll("p/");
    assert.deepEqual(all.entries.map(([key]) => key), ["p/0", "p/1", "p/2", "p/3", "p/4", "p/5", "p/6"]);
    assert.equal(all.more, false);
    const some = await client.listAll("p/", { limit: 5 });
    assert.deepEqual([some.entries.length, some.more], [5, true]);
  });

  test("each op sends the protocol's fields and returns the typed reply", async () => {
    const store = cluster.elect(1);
    const client = newClient();
    const put = await client.put("a/1", "one");
    assert.equal(put.ok, true);
    assert.equal(typeof put.index, "number");
    assert.deepEqual(await client.get("a/1"), { ok: true, term: 1, leaderId: 1, found: true, value: "one" });
    assert.deepEqual((await client.get("missing")).found, false);
    await client.put("a/2", 2);
    await client.put("b/1", true);
    assert.deepEqual((await client.list("a/")).entries, [["a/1", "one"], ["a/2", 2]]);
    assert.deepEqual((await client.list(undefined, 1)).entries, [["a/1", "one"]]);
    const refused = await client.cas("a/1", "wrong", "x");
    assert.deepEqual([refused.swapped, refused.value], [false, "one"]);
    const swapped = await client.cas("a/1", "one", "uno");
    assert.deepEqual([swapped.swapped, swapped.value], [true, "uno"]);
    const created = await client.cas("new", null, "fresh");
    assert.equal(created.swapped, true);
    const removed = await client.delete("a/2");
    assert.equal(removed.found, true);
    const status = await client.status(1);
    assert.deepEqual([status.id, status.role, status.pid], [1, "leader", process.pid]);

    const requests = cluster.server(1).requests;
    const put1 = requests.find((request) => request.op === "put");
    assert.deepEqual(Object.keys(put1 ?? {}).sort(), ["client", "key", "op", "seq", "value"]);
    assert.match(String(put1?.client), /^[0-9a-f]{16}$/);
    const cas = requests.find((request) => request.op === "cas");
    assert.deepEqual([cas?.expect, cas?.value], ["wrong", "x"]);
    const get = requests.find((request) => request.op === "get");
    assert.deepEqual(Object.keys(get ?? {}).sort(), ["key", "op"], "reads carry no session and no undefined fields");
    assert.equal(store.data.get("new"), "fresh");
    const stale = await client.get("a/1", { stale: true });
    assert.equal(stale.value, "uno");
    assert.equal(cluster.server(1).requests.at(-1)?.stale, true);
  });

  test("values come back exactly as stored: __proto__ keys, big integers, binary, non-string map keys", async () => {
    cluster.elect(1);
    const client = newClient();
    const tricky: Record<string, unknown> = JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1, "nested": [[1, [2]]]}');
    const values: unknown[] = [tricky, 2n ** 63n - 1n, -(2n ** 60n), Buffer.from([0, 1, 255]), new Map<unknown, unknown>([[1, "one"]]), null, 1.5];
    for (const [i, value] of values.entries()) {
      await client.put(`v${i}`, value);
      const read = await client.get(`v${i}`);
      assert.deepEqual(read.value, value, `value ${i}`);
    }
    const read = (await client.get("v0")).value as Record<string, unknown>;
    assert.ok(Object.hasOwn(read, "__proto__"), "__proto__ is an own key");
    assert.equal(Object.getPrototypeOf(read), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test("NOT_LEADER is followed to the leader, which is then asked first", async () => {
    cluster.elect(3);
    const client = newClient({ serverId: 1 });
    const redirects: RedirectEvent[] = [];
    client.on("redirect", (event) => redirects.push(event));
    await client.put("k", "v");
    assert.deepEqual(redirects, [{ from: 1, to: 3, endpoint: cluster.server(3).endpoint }]);
    assert.equal(client.currentServerId, 3);
    await client.get("k");
    assert.equal(redirects.length, 1, "the second op goes straight to the leader");
    assert.equal(cluster.server(1).requests.length, 1);
  });

  test("a silent server is left for the next one, and its socket is reopened so it can be used again", async () => {
    const store = cluster.elect(2);
    cluster.server(1).behaviour = behaviours.silent();
    const client = newClient({ serverId: 1 });
    const failovers: FailoverEvent[] = [];
    client.on("failover", (event) => failovers.push(event));
    await client.put("k", "v");
    assert.deepEqual(failovers, [{ from: 1, to: 2, endpoint: cluster.server(2).endpoint, reason: "no-reply" }]);
    // A REQ socket whose reply was lost refuses to send again (EFSM): the client must use a fresh one.
    await assert.rejects(client.status(1, { timeoutMs: 100 }), (error: unknown) => error instanceof ZraftError && error.code === "TIMEOUT");
    cluster.server(1).behaviour = behaviours.leader(store);
    assert.equal((await client.status(1)).id, 1);
    assert.equal((await client.status(1)).id, 1);
  });

  test("NO_LEADER is retried with backoff until a leader is known", async () => {
    const store = new FakeStore();
    for (const server of cluster.servers) server.behaviour = behaviours.noLeader();
    const client = newClient();
    const retries: RetryEvent[] = [];
    client.on("retry", (event) => {
      retries.push(event);
      if (retries.length === 4) cluster.elect(2, store);
    });
    const reply = await client.put("k", "v");
    assert.equal(reply.ok, true);
    assert.deepEqual(retries.map((event) => [event.reason, event.attempt]).slice(0, 2), [["NO_LEADER", 1], ["NO_LEADER", 2]]);
    assert.ok(retries.every((event) => event.delayMs >= 0 && event.delayMs <= fast.backoffMsMax));
    assert.equal(store.applied, 1);
  });

  test("a TIMEOUT write is retried with the same client and seq and applied once", async () => {
    const store = new FakeStore();
    cluster.elect(1, store);
    const leader = cluster.server(1);
    let timeoutsLeft = 2;
    leader.behaviour = (request, server) => {
      const reply = store.answer(request, server);
      if (request.op !== "put" || timeoutsLeft === 0) return reply;
      timeoutsLeft -= 1;
      return { ok: false, term: 1, leaderId: 1, error: "TIMEOUT", message: "not confirmed in time" };
    };
    const client = newClient();
    const first = await client.put("k", "v1");
    const puts = leader.requestsOf("put");
    assert.equal(puts.length, 3);
    assert.ok(puts.every((request) => request.seq === 1 && request.client === client.sessionId));
    assert.equal(store.applied, 1, "applied once although sent three times");
    assert.equal(first.index, 1);
    await client.put("k", "v2");
    assert.equal(leader.requestsOf("put").at(-1)?.seq, 2, "the next write takes the next seq");
  });

  test("SESSION_EXPIRED: a write no attempt of which could have applied is sent again under a new session; otherwise it fails, and the session is renewed", async () => {
    const store = new FakeStore();
    cluster.elect(1, store);
    const leader = cluster.server(1);
    const expiredSessions = new Set<unknown>();
    let timeoutFirst = false;
    leader.behaviour = (request, server) => {
      if (request.op !== "put") return store.answer(request, server);
      if (timeoutFirst) {
        timeoutFirst = false;
        return { ok: false, term: 1, leaderId: 1, error: "TIMEOUT", message: "not confirmed in time" };
      }
      if (expiredSessions.has(request.client)) return { ok: false, term: 1, leaderId: 1, error: "SESSION_EXPIRED", message: "session is not known" };
      return store.answer(request, server);
    };
    const client = newClient();
    await client.put("k", "v1");
    await client.put("k", "v2");
    const firstSession = client.sessionId;
    expiredSessions.add(firstSession);
    const reply = await client.put("k", "v3");
    assert.equal(reply.ok, true);
    const last = leader.requestsOf("put").at(-1);
    assert.ok(last?.client !== firstSession && last?.client === client.sessionId && last.seq === 1, JSON.stringify(last));

    // Now the session expires while an earlier attempt of the write got TIMEOUT: its outcome is unknown.
    expiredSessions.add(client.sessionId);
    timeoutFirst = true;
    const secondSession = client.sessionId;
    await assert.rejects(client.put("k", "v4"), (error: unknown) => error instanceof ZraftError && error.code === "SESSION_EXPIRED" && /unknown/.test(error.message));
    assert.notEqual(client.sessionId, secondSession, "later writes use a new session");
    assert.equal((await client.put("k", "v5")).ok, true);
  });

  test("BAD_REQUEST is raised at once as ZraftError, also for a value MessagePack cannot hold", async () => {
    cluster.elect(1);
    cluster.server(1).behaviour = (_request, server) => ({ ok: false, term: 1, leaderId: server.id, error: "BAD_REQUEST", message: "key too long" });
    const client = newClient();
    await assert.rejects(client.put("k", "v"), (error: unknown) => {
      assert.ok(error instanceof ZraftError);
      assert.equal(error.code, "BAD_REQUEST");
      assert.equal(error.message, "key too long");
      return true;
    });
    assert.equal(cluster.server(1).requests.length, 1, "not retried");
    await assert.rejects(client.put("k", 2n ** 70n), (error: unknown) => {
      assert.ok(error instanceof ZraftError);
      assert.equal(error.code, "BAD_REQUEST");
      assert.match(error.message, /cannot be encoded as MessagePack/);
      return true;
    });
    assert.equal(cluster.server(1).requests.length, 1, "an unencodable value is refused before sending");
  });

  test("when no server answers, the operation fails with TIMEOUT at its deadline", async () => {
    for (const server of cluster.servers) server.behaviour = behaviours.silent();
    const client = newClient({ requestTimeoutMs: 50, deadlineMs: 400 });
    const failovers: FailoverEvent[] = [];
    client.on("failover", (event) => failovers.push(event));
    await assert.rejects(client.get("k"), (error: unknown) => {
      assert.ok(error instanceof ZraftError);
      assert.equal(error.code, "TIMEOUT");
      assert.match(error.message, /did not answer/);
      return true;
    });
    assert.ok(failovers.length >= 2, "it went round the servers");
    assert.deepEqual(failovers.slice(0, 2).map((event) => [event.from, event.to]), [[1, 2], [2, 3]]);
  });

  test("status(id) asks only that server: a follower answers for itself, a silent one fails fast", async () => {
    cluster.elect(2);
    cluster.server(3).behaviour = behaviours.silent();
    const client = newClient();
    const status = await client.status(1);
    assert.deepEqual([status.id, status.role, status.leaderId], [1, "follower", 2]);
    await assert.rejects(client.status(3, { timeoutMs: 100 }), (error: unknown) => error instanceof ZraftError && error.code === "TIMEOUT");
    assert.equal(cluster.server(2).requests.length, 0);
    await assert.rejects(client.status(9), RangeError);
  });

  test("a reply that breaks the protocol counts as a failed server", async () => {
    cluster.elect(2);
    cluster.server(1).behaviour = () => ({ raw: Buffer.from([0xc1]) });
    const client = newClient({ serverId: 1 });
    const failovers: FailoverEvent[] = [];
    client.on("failover", (event) => failovers.push(event));
    assert.equal((await client.put("k", "v")).ok, true);
    assert.deepEqual(failovers.map((event) => event.reason), ["bad-reply"]);
    cluster.server(1).behaviour = () => ({ ok: true, term: 1, leaderId: 1 });
    await assert.rejects(client.status(1), (error: unknown) => {
      assert.ok(!(error instanceof ZraftError), "a broken reply is no protocol error code");
      assert.match(String(error), /server 1 .* broke the protocol: the reply has no id field/);
      return true;
    });
  });

  test("concurrent callers are queued: one request at a time, seqs in order", async () => {
    const store = cluster.elect(1);
    const leader: FakeServer = cluster.server(1);
    const client = newClient();
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => client.put(`k${i}`, i)));
    assert.deepEqual(replies.map((reply) => reply.ok), Array(20).fill(true));
    assert.deepEqual(leader.requestsOf("put").map((request) => request.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(store.data.get("k19"), 19);
  });

  test("close() rejects the operation in flight and every later one", async () => {
    for (const server of cluster.servers) server.behaviour = behaviours.silent();
    const client = newClient({ requestTimeoutMs: 5_000 });
    const pending = client.get("k");
    const queued = client.get("k2");
    await waitUntil(() => cluster.server(1).requests.length === 1);
    client.close();
    await assert.rejects(pending, /closed/);
    await assert.rejects(queued, /closed/);
    await assert.rejects(client.put("k", "v"), /closed/);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), "condition never held");
}
