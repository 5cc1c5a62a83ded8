/**
 * The forwarder's fault injection as a process (docs/protocol.md §11):
 * without --allow-faults there is no control socket and --control is
 * refused (one line, exit 2); with it, a 5-server cluster still elects, bad
 * control requests are refused over the wire and change nothing, and
 * isolating the leader makes the others elect a new one that serves writes,
 * while the old one rejoins once the rules are cleared. Every rule change
 * is logged at info.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Request } from "zeromq";
import { FaultControlError } from "../../src/local-cluster/fault-control.ts";
import { createLocalCluster } from "../../src/local-cluster/local-cluster.ts";
import { TestCluster, freeLoopbackPorts, runCommand, waitFor } from "../e2e/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "zraft-forwarder-faults-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function configOnFreePorts(): Promise<string> {
  const [pubPort, subPort, serverPort] = await freeLoopbackPorts(3);
  const path = join(dir, `cluster-${pubPort}.json`);
  writeFileSync(
    path,
    JSON.stringify({ forwarders: [{ pub: `tcp://127.0.0.1:${pubPort}`, sub: `tcp://127.0.0.1:${subPort}` }], servers: [{ id: 1, client: `tcp://127.0.0.1:${serverPort}` }] }),
  );
  return path;
}

test("without --allow-faults, --control is refused with one line and exit code 2", async () => {
  const config = await configOnFreePorts();
  const [controlPort] = await freeLoopbackPorts(1);
  const refused = await runCommand(["forwarder/main.ts", "--config", config, "--control", `tcp://127.0.0.1:${controlPort}`]);
  assert.equal(refused.code, 2);
  assert.equal(refused.stderr.trimEnd().split("\n").length, 1, refused.stderr);
  assert.match(refused.stderr, /refusing --control without --allow-faults/);

  const incomplete = await runCommand(["forwarder/main.ts", "--config", config, "--allow-faults"]);
  assert.equal(incomplete.code, 2);
  assert.match(incomplete.stderr, /--allow-faults needs --control ENDPOINT/);

  // A cluster started without the option has no control socket to talk to.
  const plain = await createLocalCluster();
  try {
    assert.throws(() => plain.faultControl(), /no control socket/);
  } finally {
    await plain.cleanup();
  }
});

test("a control endpoint that cannot be bound gets one clear line and exit code 1", async (t) => {
  const config = await configOnFreePorts();
  const [controlPort] = await freeLoopbackPorts(1);
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(controlPort, "127.0.0.1", resolve));
  t.after(() => squatter.close());
  const result = await runCommand(["forwarder/main.ts", "--config", config, "--allow-faults", "--control", `tcp://127.0.0.1:${controlPort}`]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
  assert.match(result.stderr, /cannot bind the control endpoint .* \(--control\): Address already in use/);
});

/** Sends one raw JSON request to the control socket and returns the decoded reply. */
async function rawRequest(endpoint: string, text: string): Promise<Record<string, unknown>> {
  const socket = new Request({ linger: 0, receiveTimeout: 5_000 });
  try {
    socket.connect(endpoint);
    await socket.send(text);
    const [reply] = await socket.receive();
    return JSON.parse((reply as Buffer).toString()) as Record<string, unknown>;
  } finally {
    socket.close();
  }
}

test("with --allow-faults: bad requests change nothing, and an isolated leader is replaced, then rejoins", async (t) => {
  const cluster = await TestCluster.start(t, { faultControl: true });
  const faults = cluster.faultControl();
  const forwarderLog = (): string => cluster.process("forwarder-0")?.output() ?? "";
  assert.match(forwarderLog(), /fault injection is on \(testing only\)/);

  const oldLeader = await cluster.findLeader();
  const client = cluster.client();
  await client.put("before", "1");

  // Refused over the wire, in both formats, and nothing changes.
  const refused = await rawRequest(faults.endpoint, JSON.stringify({ op: "isolate", server: 6 }));
  assert.deepEqual(refused, { ok: false, error: "BAD_REQUEST", message: "server must be a server id of the configuration (1, 2, 3, 4, 5)" });
  await assert.rejects(faults.drop([1], [1]), (error: unknown) => error instanceof FaultControlError && /in both from and to/.test(error.message));
  assert.deepEqual(await faults.rules(), []);

  assert.deepEqual(await faults.isolate(oldLeader.id), [`isolate server ${oldLeader.id}`]);
  await waitFor(() => new RegExp(`info .*fault rules: isolate server ${oldLeader.id}; in force: isolate server ${oldLeader.id}`).test(forwarderLog()), {
    what: "the rule change in the forwarder's log, at info",
  });
  const newLeader = await waitFor(
    async () => {
      const leader = await cluster.findLeader({ timeoutMs: 1_000 }).catch(() => undefined);
      return leader !== undefined && leader.id !== oldLeader.id && leader.term > oldLeader.term ? leader : undefined;
    },
    { timeoutMs: 20_000, what: "the other four to elect a new leader" },
  );
  await client.put("during", "2");
  assert.equal((await client.get("during")).value, "2");
  // The isolated server heard nothing of it: still in its old term.
  assert.equal((await cluster.status(oldLeader.id))?.term, oldLeader.term);

  assert.deepEqual(await faults.clear(), []);
  assert.match(forwarderLog(), /fault rules: cleared; in force: none/);
  await waitFor(
    async () => {
      const status = await cluster.status(oldLeader.id);
      return status !== undefined && status.role === "follower" && status.term >= newLeader.term && status.leaderId !== null;
    },
    { timeoutMs: 20_000, what: `server ${oldLeader.id} to rejoin as a follower` },
  );
  assert.equal((await client.get("before")).value, "1");
});
