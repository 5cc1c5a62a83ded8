/**
 * Proves CURVE end to end on real processes (docs/protocol.md §10): with a
 * `curve` section a cluster elects a leader and serves writes and reads
 * through the client library and the one-shot CLI, while everyone without
 * the right keys gets nothing and is logged by the process that refused it:
 *
 * - a client whose key is not in `curve.clients`, a plaintext client and a
 *   client that does not know the cluster's public key get no reply, and
 *   the server logs each refusal;
 * - a publisher without the cluster's key pair, on the forwarder's `pub`
 *   port, cannot make any server change term or apply anything with forged
 *   Raft messages, and the forwarder logs it; the same messages from a
 *   publisher that holds the cluster's pair do change the servers' terms,
 *   so the forgeries would have worked had they been let through;
 * - a server configured with another cluster key pair never hears from its
 *   peers (no leader, no log entry), and the forwarder logs its refusal.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pack } from "msgpackr";
import { Request, curveKeyPair } from "zeromq";
import { ZraftClient, type StatusReply } from "../../src/client/zraft-client.ts";
import type { CurveKeyPair } from "../../src/config/curve-keys.ts";
import { encodeCommand } from "../../src/kv/commands.ts";
import { createPeerPublisher } from "../../src/net/sockets.ts";
import { encodePeerMessage } from "../../src/protocol/peer-codec.ts";
import { ForgedStamps } from "./forged-stamps.ts";
import type { Message } from "../../src/raft/index.ts";
import { ManagedProcess, TestCluster, runCommand, waitFor } from "./harness.ts";

/** Long election timeouts: on a loaded machine a spontaneous election must not pass for the effect of a forgery. */
const timing = { electionTimeoutMs: [1000, 2000], heartbeatMs: 100 } as const;

function writeJson(path: string, value: unknown): string {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

/** Waits until `process`'s output matches `pattern`, and returns the first matching line. */
async function loggedLine(process: ManagedProcess | undefined, pattern: RegExp): Promise<string> {
  assert.ok(process !== undefined);
  await process.waitForOutput(pattern, { timeoutMs: 20_000 });
  return process.output().split("\n").find((line) => pattern.test(line)) as string;
}

/** A status probe that must get no reply at all: `client.status` rejects with TIMEOUT. */
async function assertNoAnswer(client: ZraftClient, id: number, what: string): Promise<void> {
  try {
    await assert.rejects(client.status(id, { timeoutMs: 2_000 }), (error: Error & { code?: string }) => error.code === "TIMEOUT", what);
  } finally {
    client.close();
  }
}

test("with CURVE, put and get work through the library and the CLI, and clients without an admitted key get nothing and are logged", async (t) => {
  const clusterKeys = curveKeyPair();
  const allowed = curveKeyPair();
  const cluster = await TestCluster.start(t, { ...timing, extraConfig: { curve: { ...clusterKeys, clients: [allowed.publicKey] } }, clientKey: allowed });
  const leader = await cluster.findLeader();
  assert.equal(leader.role, "leader");

  const client = cluster.client();
  const put = await client.put("city", "Porto");
  assert.ok(put.index >= 1);
  assert.equal((await client.get("city")).value, "Porto");

  // A client's copy of the config holds the cluster's public key only, not the secret that servers and forwarders hold.
  const clientConfig = writeJson(join(cluster.dir, "client-config.json"), { ...cluster.config, curve: { publicKey: clusterKeys.publicKey } });
  const keyFile = writeJson(join(cluster.dir, "client-key.json"), allowed);
  const cliPut = await runCommand(["client/main.ts", "--config", clientConfig, "--key", keyFile, "put", "a", "b"]);
  assert.equal(cliPut.code, 0, cliPut.stderr);
  assert.match(cliPut.stdout, /^OK \(index \d+\)\n$/);
  const cliGet = await runCommand(["client/main.ts", "--config", clientConfig, "get", "a"], { env: { ZRAFT_CLIENT_KEY: keyFile } });
  assert.deepEqual([cliGet.code, cliGet.stdout], [0, "b\n"], cliGet.stderr);

  // (b) Each kind of refusal: the client waits in vain, the server says why.
  const server = cluster.process(`server-${leader.id}`);
  const stranger = curveKeyPair();
  await assertNoAnswer(
    new ZraftClient({ config: cluster.config, curve: { serverPublicKey: clusterKeys.publicKey, ...stranger } }),
    leader.id,
    "a client whose key is not in curve.clients",
  );
  const strangerLine = await loggedLine(server, new RegExp(`refused a client at 127\\.0\\.0\\.1 with public key ${escape(stranger.publicKey)}`));

  const plaintext = new Request({ linger: 0, receiveTimeout: 2_000 });
  plaintext.connect(cluster.config.servers.find((s) => s.id === leader.id)?.client as string);
  await plaintext.send(pack({ op: "status" }));
  await assert.rejects(plaintext.receive(), (error: Error & { code?: string }) => error.code === "EAGAIN", "a plaintext client gets no reply");
  plaintext.close();
  // Both sides check the greetings; when the client sees the mismatch first and hangs up, the server logs the hang-up.
  const plaintextLine = await loggedLine(server, /refused a client on .*(one of them uses CURVE and the other does not|closed the connection during the handshake)/);

  const impostor = curveKeyPair();
  await assertNoAnswer(
    new ZraftClient({ config: cluster.config, curve: { serverPublicKey: impostor.publicKey, ...allowed } }),
    leader.id,
    "a client that does not know the cluster's public key",
  );
  const wrongServerKeyLine = await loggedLine(server, /refused a client on .*does not hold this cluster's public key/);

  const cliStranger = writeJson(join(cluster.dir, "stranger-key.json"), stranger);
  const refusedCli = await runCommand(["client/main.ts", "--config", cluster.configPath, "--key", cliStranger, "status", String(leader.id)]);
  assert.equal(refusedCli.code, 1);
  assert.match(refusedCli.stderr, /^zraft: TIMEOUT: .*is its public key in curve\.clients\?\)\n$/);

  t.diagnostic(`server ${leader.id}: ${strangerLine}`);
  t.diagnostic(`server ${leader.id}: ${plaintextLine}`);
  t.diagnostic(`server ${leader.id}: ${wrongServerKeyLine}`);
  t.diagnostic(`CLI with an unlisted key: ${refusedCli.stderr.trim()}`);
});

/** RegExp text matching `text` literally (Z85 keys hold `.`, `+`, `*`, `?`, `(` …). */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Every server's status that answers among `ids`. */
async function statusesOf(cluster: TestCluster, ids: readonly number[]): Promise<StatusReply[]> {
  const all = await cluster.statuses(1_000);
  return ids.map((id) => all.get(id)).filter((status): status is StatusReply => status !== undefined);
}

/**
 * Forged Raft messages to each of `targets`, claiming `term`: a RequestVote
 * from `from`, and an AppendEntries from `from` as leader that appends and
 * commits a put of the key "forged" right after the target's last entry.
 */
function forgeries(targets: readonly StatusReply[], from: number, term: number, leaderTerm: number): Message[] {
  const data = encodeCommand({ op: "put", key: "forged", value: pack("by an outsider") });
  return targets.flatMap((target): Message[] => [
    { type: "RequestVote", term, from, to: target.id, lastLogIndex: 1_000_000, lastLogTerm: term },
    {
      type: "AppendEntries",
      term,
      from,
      to: target.id,
      prevLogIndex: target.lastLogIndex,
      // Every entry of an idle cluster's log after the leader's no-op was written in the leader's term.
      prevLogTerm: leaderTerm,
      entries: [{ index: target.lastLogIndex + 1, term, type: "command", data }],
      leaderCommit: target.lastLogIndex + 1,
      readRound: 0,
    },
  ]);
}

const forgedStamps = new ForgedStamps();
const stamped = (message: Message): Uint8Array[] => [...encodePeerMessage(message), forgedStamps.next(message.from)];

async function startWrongKeyServer(t: TestContext, cluster: TestCluster, id: number, wrongKeys: CurveKeyPair): Promise<ManagedProcess> {
  const configPath = join(cluster.dir, "wrong-key.json");
  writeJson(configPath, { ...cluster.config, curve: wrongKeys });
  // At debug, so that each of its election attempts is logged (at info it says once that it has no leader).
  const server = ManagedProcess.spawn(`server-${id}-wrong-key`, ["src/server/main.ts", "--id", String(id), "--config", configPath, "--log-level", "debug"], {
    logFile: join(cluster.dir, `server-${id}-wrong-key.log`),
  });
  t.after(() => server.kill("SIGKILL"));
  await server.waitForOutput(/serving clients on/, { timeoutMs: 20_000 });
  return server;
}

test("with CURVE, neither a forged publisher nor a server with another cluster key can reach the servers, and the forwarder logs both", async (t) => {
  const clusterKeys = curveKeyPair();
  const clientKey = curveKeyPair();
  const cluster = await TestCluster.create(t, { ...timing, extraConfig: { curve: clusterKeys }, clientKey });
  const members = [1, 2, 3, 4];
  await cluster.startForwarder();
  for (const id of members) cluster.startServer(id);
  await Promise.all(members.map((id) => cluster.waitForServer(id)));
  const forwarder = cluster.process("forwarder-0");

  // (c) Server 5 holds another cluster key pair: the forwarder cannot decrypt its handshakes.
  const wrongKeys = curveKeyPair();
  const wrongServer = await startWrongKeyServer(t, cluster, 5, wrongKeys);
  const leader = await cluster.findLeader();
  await cluster.client().put("before", "the forgeries");

  const wrongServerLine = await loggedLine(forwarder, /refused a peer on .*does not hold this cluster's public key/);
  const wrongServerOwnLine = await loggedLine(wrongServer, /handshake with forwarder .* failed/);
  const wrongClient = new ZraftClient({ config: cluster.config, curve: { serverPublicKey: wrongKeys.publicKey, ...clientKey } });
  t.after(() => wrongClient.close());
  // Long enough for several of its election timeouts: its pre-vote requests would have reached the others by now.
  await waitFor(() => (wrongServer.output().match(/asking for pre-votes/g)?.length ?? 0) >= 3, {
    timeoutMs: 30_000,
    what: "the server with the wrong key to ask for pre-votes in three election timeouts",
  });
  const lonely = await wrongClient.status(5, { timeoutMs: 1_000 });
  assert.equal(lonely.term, 0, "no pre-vote ever reached a majority, so it never stood for election");
  assert.equal(lonely.leaderId, null, "it never learns of a leader");
  assert.equal(lonely.lastLogIndex, 0, "it never receives an entry");
  assert.notEqual(lonely.role, "leader");

  // (a) Forged Raft messages from publishers without the cluster's key pair.
  const before = await statusesOf(cluster, members);
  assert.equal(before.length, members.length);
  const topTerm = Math.max(...before.map((status) => status.term));
  const forgedTerm = topTerm + 100;
  const messages = forgeries(before, 5, forgedTerm, leader.term);
  const plaintext = createPeerPublisher();
  const stranger = curveKeyPair();
  const outsider = createPeerPublisher({ role: "client", serverPublicKey: clusterKeys.publicKey, ...stranger });
  const pubEndpoint = cluster.config.forwarders[0]?.pub as string;
  plaintext.connect(pubEndpoint);
  outsider.connect(pubEndpoint);
  t.after(() => {
    plaintext.close();
    outsider.close();
  });
  // A PUB socket drops what it cannot deliver: keep sending for a few seconds, as an attacker would.
  const deadline = performance.now() + 4_000;
  while (performance.now() < deadline) {
    for (const message of messages) {
      await plaintext.send(stamped(message));
      await outsider.send(stamped(message));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const plaintextLine = await loggedLine(forwarder, /refused a peer on .*(one of them uses CURVE and the other does not|closed the connection during the handshake)/);
  const outsiderLine = await loggedLine(forwarder, new RegExp(`refused a peer at 127\\.0\\.0\\.1 on pub with public key ${escape(stranger.publicKey)}`));

  const after = await statusesOf(cluster, members);
  assert.equal(after.length, members.length);
  for (const status of after) {
    assert.ok(status.term < forgedTerm, `server ${status.id} never took the forged term: ${JSON.stringify(status)}`);
    const previous = before.find((b) => b.id === status.id) as StatusReply;
    assert.equal(status.lastApplied, previous.lastApplied, `server ${status.id} applied nothing new`);
  }
  for (const id of members) {
    const reply = await cluster.client({ serverId: id }).get("forged", { stale: true });
    assert.equal(reply.found, false, `server ${id} holds no forged key`);
  }

  // The teeth: the same messages from a publisher holding the cluster's key pair do reach the servers.
  const insider = createPeerPublisher({ role: "client", serverPublicKey: clusterKeys.publicKey, ...clusterKeys });
  insider.connect(pubEndpoint);
  t.after(() => insider.close());
  await waitFor(
    async () => {
      for (const message of messages) await insider.send(stamped(message));
      const statuses = await statusesOf(cluster, members);
      return statuses.some((status) => status.term >= forgedTerm);
    },
    { timeoutMs: 20_000, intervalMs: 200, what: "a server to take the forged term from a publisher with the cluster's keys" },
  );

  t.diagnostic(`forwarder: ${wrongServerLine}`);
  t.diagnostic(`server-5-wrong-key: ${wrongServerOwnLine}`);
  t.diagnostic(`forwarder: ${plaintextLine}`);
  t.diagnostic(`forwarder: ${outsiderLine}`);
  t.diagnostic(`terms before ${JSON.stringify(before.map((s) => s.term))}, after ${JSON.stringify(after.map((s) => s.term))}, forged ${forgedTerm}`);
});
