/**
 * Proves, on real processes, that nothing a client or a peer sends crashes a
 * server or disturbs the cluster (docs/protocol.md §6 and
 * §8):
 *   - malformed requests over raw REQ and DEALER sockets, to a follower and
 *     to the leader (bytes that are not MessagePack, values that are not
 *     maps, unknown ops, wrong field types, a 5 KiB key, a 2 MiB value,
 *     several frames, an empty frame) each get BAD_REQUEST, never NOT_LEADER,
 *     with `rid` echoed whenever the request decoded to a map; the server
 *     answers the next request as usual;
 *   - a request of 8 MiB still gets its BAD_REQUEST; one of 9 MiB is dropped
 *     and logged (or refused); a 17 MiB frame costs its sender the
 *     connection; the server serves on;
 *   - garbage published on the Raft bus through the forwarder (random bytes,
 *     wrong frame counts, unknown server id 99, a term of 2^52) is dropped
 *     by the server it is addressed to, and the cluster keeps its leader and
 *     a sane term (Raft paper §5.1: a higher term would depose the leader).
 * The cluster is shared by the tests of this file: none of them may harm it.
 */
import { after, afterEach, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Packr } from "msgpackr";
import { Dealer, Publisher } from "zeromq";
import { encodeRequest } from "../../src/client/client-codec.ts";
import { watchSocketEvents } from "../../src/net/sockets.ts";
import { TestCluster, waitFor } from "./harness.ts";
import { WireDealer, WireRequester, clientEndpointOf, requestOnce, type ReplyFields } from "./cluster-wire.ts";

const packr = new Packr({ useRecords: false });
const pack = (value: unknown): Buffer => packr.pack(value);
const kib = 1024;
const mib = 1024 * kib;

let cluster: TestCluster;
let failed = false;
before(async () => {
  cluster = await TestCluster.start();
});
afterEach((t) => {
  // TestContext.passed exists at run time since Node 20.12 but not in @types/node 20.
  if ((t as unknown as { passed?: boolean }).passed === false) failed = true;
});
after(() => cluster?.cleanup({ failed }));

/** The leader and one follower: every bad input goes to both. */
async function targets(): Promise<Array<{ readonly role: string; readonly id: number }>> {
  const leader = await cluster.findLeader();
  const follower = cluster.serverIds.find((id) => id !== leader.id) as number;
  return [
    { role: "leader", id: leader.id },
    { role: "follower", id: follower },
  ];
}

function assertBadRequest(reply: ReplyFields, rid: unknown, what: string): void {
  assert.equal(reply.ok, false, `${what}: ${JSON.stringify(reply)}`);
  assert.equal(reply.error, "BAD_REQUEST", `${what}: ${JSON.stringify(reply)}`);
  assert.equal(typeof reply.message, "string", what);
  assert.equal(typeof reply.term, "number", `${what}: every reply carries term`);
  assert.ok("leaderId" in reply, `${what}: every reply carries leaderId`);
  assert.deepEqual(reply.rid, rid, `${what}: rid ${rid === undefined ? "absent" : "echoed"}`);
}

/** Proves the server still serves: a status request answered normally. */
async function assertServing(endpoint: string, what: string): Promise<void> {
  const status = await requestOnce(endpoint, { op: "status", rid: "still-serving" });
  assert.equal(status.ok, true, `${what}: the server answers status afterwards`);
  assert.equal(status.rid, "still-serving");
}

interface BadRequest {
  readonly name: string;
  /** One frame, or several sent as one message. */
  readonly body: Uint8Array | readonly Uint8Array[];
  /** The rid the reply must echo; undefined when the request did not decode to a map. */
  readonly rid?: unknown;
}

/** A map request whose rid must come back; `fields` breaks some rule. */
const withRid = (name: string, rid: unknown, fields: Readonly<Record<string, unknown>>): BadRequest => ({
  name,
  body: encodeRequest({ ...fields, rid }),
  rid,
});

/** {op: "get", key: <str of the given raw bytes>, rid}: MessagePack that no encoder of valid strings would write. */
function getWithRawKeyBytes(keyBytes: readonly number[], rid: string): Uint8Array {
  return Buffer.concat([Buffer.from([0x83]), pack("op"), pack("get"), pack("key"), Buffer.from([0xa0 | keyBytes.length, ...keyBytes]), pack("rid"), pack(rid)]);
}

const badRequests: readonly BadRequest[] = [
  { name: "the byte 0xc1, never MessagePack", body: Buffer.from([0xc1]) },
  { name: "random bytes", body: Buffer.from([0xc1, ...randomBytes(63)]) },
  { name: "a map cut short", body: encodeRequest({ op: "status", rid: "cut" }).subarray(0, 6) },
  { name: "trailing bytes after the map", body: Buffer.concat([encodeRequest({ op: "status", rid: "trailing" }), pack(1)]) },
  { name: "an array, not a map", body: pack(["op", "status"]) },
  { name: "a string, not a map", body: pack("status") },
  { name: "nil, not a map", body: pack(null) },
  { name: "an empty frame", body: new Uint8Array(0) },
  { name: "two frames", body: [encodeRequest({ op: "status" }), encodeRequest({ op: "status" })] },
  withRid("an unknown op", "unknown-op", { op: "frobnicate" }),
  withRid("no op", 17, { key: "k" }),
  withRid("an op that is not a string", { nested: ["rid", 1] }, { op: 7 }),
  withRid("a key that is a number", "key-number", { op: "get", key: 5 }),
  withRid("a get without key", "no-key", { op: "get" }),
  withRid("an empty key", "empty-key", { op: "get", key: "" }),
  withRid("a 5 KiB key", "long-key", { op: "put", key: "k".repeat(5 * kib), value: 1 }),
  withRid("a put without value", "no-value", { op: "put", key: "k" }),
  withRid("a 2 MiB value", "big-value", { op: "put", key: "k", value: Buffer.alloc(2 * mib) }),
  withRid("a 2 MiB expect", "big-expect", { op: "cas", key: "k", expect: "x".repeat(2 * mib), value: 1 }),
  withRid("a cas without expect", "no-expect", { op: "cas", key: "k", value: 1 }),
  withRid("stale that is not a boolean", "stale-string", { op: "get", key: "k", stale: "yes" }),
  withRid("a negative list limit", "negative-limit", { op: "list", limit: -1 }),
  withRid("a fractional list limit", "fraction-limit", { op: "list", limit: 1.5 }),
  withRid("a prefix that is a map", "prefix-map", { op: "list", prefix: { a: 1 } }),
  withRid("client without seq", "no-seq", { op: "put", key: "k", value: 1, client: "c" }),
  withRid("seq 0", "seq-zero", { op: "put", key: "k", value: 1, client: "c", seq: 0 }),
  withRid("a seq that is a string", "seq-string", { op: "put", key: "k", value: 1, client: "c", seq: "1" }),
  withRid("a 200-byte client id", "long-client", { op: "put", key: "k", value: 1, client: "c".repeat(200), seq: 1 }),
  withRid("an unknown admin action", "admin-action", { op: "admin", action: "explode" }),
  withRid("a transfer to server 99", "admin-target", { op: "admin", action: "transfer", target: 99 }),
  { name: "a key that is not UTF-8", body: getWithRawKeyBytes([0xff, 0xfe], "bad-utf8"), rid: "bad-utf8" },
  { name: "a binary rid with a bad op", body: encodeRequest({ op: "nope", rid: Buffer.from([0, 1, 2, 0xff]) }), rid: Buffer.from([0, 1, 2, 0xff]) },
];

test("malformed requests over REQ get BAD_REQUEST from the leader and a follower, rid echoed; the next request is served", async () => {
  for (const { role, id } of await targets()) {
    const endpoint = clientEndpointOf(cluster, id);
    const requester = new WireRequester(endpoint);
    try {
      for (const bad of badRequests) {
        const what = `${bad.name}, to the ${role} (server ${id})`;
        assertBadRequest(await requester.request(bad.body), bad.rid, what);
        const next = await requester.request({ op: "status", rid: bad.name });
        assert.equal(next.ok, true, `${what}: the next request on the same socket is served`);
        assert.equal(next.rid, bad.name);
      }
    } finally {
      requester.close();
    }
  }
});

test("the limits themselves are allowed: a 1024-byte key and a value of exactly 1 MiB", async () => {
  const client = cluster.client();
  const key = "k".repeat(1024);
  // A bin32 value: 5 bytes of header, so exactly 1,048,576 bytes encoded.
  const value = Buffer.alloc(mib - 5, 7);
  assert.equal(pack(value).length, mib);
  await client.put(key, value);
  assert.deepEqual((await client.get(key)).value, value);
});

test("DEALER envelopes: several frames and an empty frame get BAD_REQUEST; a message without a body or delimiter gets nothing else", async () => {
  for (const { role, id } of await targets()) {
    const endpoint = clientEndpointOf(cluster, id);
    const dealer = new WireDealer(endpoint);
    try {
      await dealer.send(encodeRequest({ op: "status", rid: "first" }), encodeRequest({ op: "status", rid: "second" }));
      assertBadRequest(await dealer.receive(), undefined, `two body frames, to the ${role}`);
      await dealer.send(new Uint8Array(0));
      assertBadRequest(await dealer.receive(), undefined, `an empty body frame, to the ${role}`);

      // Neither can be answered as a request; what matters is that no reply but BAD_REQUEST comes, and the status after them does.
      await dealer.send();
      await dealer.sendFrames([encodeRequest({ op: "status", rid: "no-delimiter" })]);
      await dealer.send(encodeRequest({ op: "status", rid: "after-bad-envelopes" }));
      const { reply, before } = await dealer.receiveUntilRid("after-bad-envelopes");
      assert.equal(reply.ok, true);
      for (const earlier of before) assertBadRequest(earlier, undefined, `a bad envelope, to the ${role}`);
    } finally {
      dealer.close();
    }
    await assertServing(endpoint, `after bad envelopes, the ${role}`);
  }
});

test("oversized requests: 8 MiB gets BAD_REQUEST, 9 MiB is dropped and logged, a 17 MiB frame loses its connection; serving goes on", async () => {
  for (const { role, id } of await targets()) {
    const endpoint = clientEndpointOf(cluster, id);
    const almost8Mib = encodeRequest({ op: "put", key: "k", value: Buffer.alloc(8 * mib - kib), rid: "8mib" });
    assert.ok(almost8Mib.length <= 8 * mib);
    assertBadRequest(await requestOnce(endpoint, almost8Mib), "8mib", `an 8 MiB request, to the ${role}`);

    const dealer = new WireDealer(endpoint);
    try {
      await dealer.send(encodeRequest({ op: "put", key: "k", value: Buffer.alloc(9 * mib), rid: "9mib" }));
      await dealer.send(encodeRequest({ op: "status", rid: "after-9mib" }));
      const { reply, before } = await dealer.receiveUntilRid("after-9mib");
      assert.equal(reply.ok, true);
      // docs/protocol.md §6: beyond 8 MiB a server may drop the request, and must log that it did.
      for (const earlier of before) assertBadRequest(earlier, "9mib", `a 9 MiB request, to the ${role}`);
      if (before.length === 0) {
        const server = cluster.process(`server-${id}`);
        await server?.waitForOutput(/dropped a request of \d+ bytes/, { timeoutMs: 5_000 });
      }
    } finally {
      dealer.close();
    }

    // libzmq refuses a frame over the server's limit by closing the connection: the sender sees the disconnect.
    const flooder = new Dealer({ linger: 0 });
    let disconnected = false;
    const watching = watchSocketEvents(flooder, (event) => {
      if (event.type === "disconnect") disconnected = true;
    });
    try {
      flooder.connect(endpoint);
      await flooder.send([new Uint8Array(0), Buffer.alloc(17 * mib)]);
      await waitFor(() => disconnected, { timeoutMs: 10_000, what: `the ${role} to close the connection of a 17 MiB frame` });
    } finally {
      flooder.close();
      await watching;
    }
    await assertServing(endpoint, `after a 17 MiB frame, the ${role}`);
  }
});

/** How many invalid peer messages server `id` has reported dropping so far, counting the ones its log throttle folded in. */
function droppedPeerMessages(id: number): { lines: number; folded: number } {
  const output = cluster.process(`server-${id}`)?.output() ?? "";
  const lines = output.match(/dropped an invalid peer message/g)?.length ?? 0;
  const folded = [...output.matchAll(/dropped an invalid peer message.*\(and (\d+) more like it/g)].reduce((sum, match) => sum + Number(match[1]), 0);
  return { lines, folded };
}

/** Peer messages that no server may accept, addressed to server `id` (topic frame first). */
function peerGarbage(id: number, other: number, term: number): Uint8Array[][] {
  const topic = Buffer.from(`raft/${id}/`);
  return [
    [topic, Buffer.from([0xc1])],
    [topic, randomBytes(64)],
    [topic],
    [topic, pack({ type: "RequestVote" }), pack(1)],
    [topic, pack("not a map")],
    [topic, pack({ type: "Surrender", term: 1, from: other, to: id })],
    [topic, pack({ type: "RequestVote", term: term + 1, from: 99, to: id, lastLogIndex: 1_000_000, lastLogTerm: term + 1 })],
    [topic, pack({ type: "RequestVote", term: 2 ** 52, from: other, to: id, lastLogIndex: 1_000_000, lastLogTerm: 2 ** 52 })],
    [topic, pack({ type: "AppendEntries", term: 2 ** 52, from: other, to: id, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 })],
    [topic, pack({ type: "AppendEntriesResponse", term: -1, from: other, to: id, success: true, matchIndex: 1e12 })],
  ];
}

/**
 * Publishes every kind of garbage to server `id` `repeats` times and waits
 * until its log accounts for all of them as dropped.
 */
async function publishGarbage(t: TestContext, id: number, term: number, repeats: number): Promise<void> {
  const publisher = new Publisher({ linger: 0 });
  t.after(() => publisher.close());
  publisher.connect(cluster.config.forwarders[0]?.pub as string);
  const garbage = peerGarbage(id, cluster.serverIds.find((candidate) => candidate !== id) as number, term);
  const probe = garbage[0] as Uint8Array[];

  // The slow joiner: a PUB socket drops what it sends before the forwarder's subscription reaches it, so probe until one arrives.
  await waitFor(
    async () => {
      await publisher.send(probe);
      return droppedPeerMessages(id).lines >= 1;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `server ${id} to log a dropped peer message` },
  );
  for (let i = 0; i < repeats; i++) for (const message of garbage) await publisher.send(message);
  // The log throttle folds drops into its next line, at most 5 s later; probing slowly keeps the probes alone far below the count awaited.
  await waitFor(
    async () => {
      await publisher.send(probe);
      return droppedPeerMessages(id).folded >= repeats * garbage.length;
    },
    { timeoutMs: 20_000, intervalMs: 500, what: `server ${id} to report ${repeats * garbage.length} dropped peer messages` },
  );
}

test("garbage on the Raft bus is dropped by the server it is addressed to; the cluster keeps its leader and a sane term", async (t) => {
  const leaderBefore = await cluster.findLeader();
  const chosen = await targets();
  await Promise.all(chosen.map(({ id }) => publishGarbage(t, id, leaderBefore.term, 5)));
  for (const { role, id } of chosen) await assertServing(clientEndpointOf(cluster, id), `after peer garbage, the ${role}`);

  for (const id of cluster.serverIds) assert.equal(cluster.process(`server-${id}`)?.running, true, `server ${id} still runs`);
  const leaderAfter = await cluster.findLeader();
  for (const status of (await cluster.statuses()).values()) {
    // Only a real election may raise the term, and a few of them at most in this time.
    assert.ok(status.term <= leaderBefore.term + 10, `server ${status.id} is at term ${status.term}, from ${leaderBefore.term}`);
  }
  assert.ok(leaderAfter.term <= leaderBefore.term + 10);
  const client = cluster.client();
  await client.put("after-peer-garbage", "fine");
  assert.equal((await client.get("after-peer-garbage")).value, "fine");
});
