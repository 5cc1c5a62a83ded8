/**
 * Proves `npm run forwarder` as a process (docs/protocol.md §1, §2): it relays
 * published messages to subscribers across its two bound endpoints, logs at
 * info when a server joins the bus and the message rate only at debug (also
 * to a --log-json file); --help lists every option with its default; SIGTERM and SIGINT stop it with
 * exit code 0; a bad config gets one line naming the file and the field and
 * exit code 2, a bad command line exit 2 with usage, a port in use exit 1;
 * and it stops by itself when the process that started it is SIGKILLed
 * (ZRAFT_PARENT_PID).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Publisher, Subscriber } from "zeromq";
import { ManagedProcess, freeLoopbackPorts, isProcessAlive, repoRoot, runCommand, waitFor } from "../e2e/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "zraft-forwarder-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function configOnFreePorts(): Promise<{ path: string; pub: string; sub: string }> {
  const [pubPort, subPort, serverPort] = await freeLoopbackPorts(3);
  const pub = `tcp://127.0.0.1:${pubPort}`;
  const sub = `tcp://127.0.0.1:${subPort}`;
  const path = join(dir, `cluster-${pubPort}.json`);
  writeFileSync(path, JSON.stringify({ forwarders: [{ pub, sub }], servers: [{ id: 1, client: `tcp://127.0.0.1:${serverPort}` }] }));
  return { path, pub, sub };
}

function startForwarder(name: string, configPath: string, extraArgs: readonly string[] = []): ManagedProcess {
  return ManagedProcess.spawn(name, ["forwarder/main.ts", "--config", configPath, ...extraArgs], { logFile: join(dir, `${name}.log`) });
}

/** Connects a publisher and a subscriber of `raft/1/` and publishes until a message comes through. */
async function relayOneMessage(t: TestContext, pub: string, sub: string): Promise<{ publisher: Publisher; received: Buffer[] }> {
  const publisher = new Publisher({ linger: 0 });
  const subscriber = new Subscriber({ linger: 0, receiveTimeout: 100 });
  t.after(() => {
    publisher.close();
    subscriber.close();
  });
  publisher.connect(pub);
  subscriber.connect(sub);
  subscriber.subscribe("raft/1/");
  const received = await waitFor(
    async () => {
      await publisher.send(["raft/1/", "ping"]);
      return subscriber.receive().catch(() => undefined);
    },
    { what: "a message relayed by the forwarder process" },
  );
  return { publisher, received };
}

test("relays between its endpoints, logs the rate at debug and to --log-json, and exits 0 on SIGTERM", async (t) => {
  const { path, pub, sub } = await configOnFreePorts();
  const jsonFile = join(dir, "relaying.jsonl");
  const forwarder = startForwarder("relaying", path, ["--log-level", "debug", "--log-json", jsonFile]);
  t.after(() => forwarder.kill());
  await forwarder.waitForOutput(/publishers connect to/);
  assert.match(forwarder.output(), new RegExp(`${pub}.*XSUB.*${sub}.*XPUB`));

  const { received } = await relayOneMessage(t, pub, sub);
  assert.deepEqual(received.map((frame) => frame.toString()), ["raft/1/", "ping"]);
  await forwarder.waitForOutput(/debug +relayed \d+ messages in 5 s/, { timeoutMs: 15_000 });
  assert.match(forwarder.output(), /info +server 1 joined: 1 on the bus \(1\)/);

  const exit = await forwarder.kill("SIGTERM");
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.match(forwarder.output(), /stopped \(SIGTERM\) after relaying [1-9]\d* messages/);
  const records = readFileSync(jsonFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { level: string; message: string; server: string });
  assert.ok(records.some((record) => record.level === "debug" && record.message.startsWith("relayed ") && record.server === "forwarder 0"));
});

test("steady traffic logs nothing at info: the rate is for debug (issue 13)", async (t) => {
  const { path, pub, sub } = await configOnFreePorts();
  const forwarder = startForwarder("steady", path);
  t.after(() => forwarder.kill());
  await forwarder.waitForOutput(/publishers connect to/);
  const { publisher } = await relayOneMessage(t, pub, sub);
  await forwarder.waitForOutput(/server 1 joined/);
  const settledAt = forwarder.output().length;
  // Longer than the 5 s rate interval, with a message every 50 ms, like a cluster's heartbeats.
  for (const start = Date.now(); Date.now() - start < 6_500; ) {
    await publisher.send(["raft/1/", "heartbeat"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(forwarder.output().slice(settledAt), "", "no line while the traffic goes on as before");
});

test("--help lists every option with its default, and exits 0", async () => {
  const result = await runCommand(["forwarder/main.ts", "--help"]);
  assert.equal(result.code, 0);
  for (const option of ["config FILE", "index I", "log-level LEVEL", "log-json FILE", "allow-faults", "control ENDPOINT"]) {
    assert.match(result.stdout, new RegExp(`^  --${option} .*\n +default: \\S`, "m"), option);
  }
});

test("SIGINT stops it with exit code 0", async (t) => {
  const { path } = await configOnFreePorts();
  const forwarder = startForwarder("sigint", path);
  t.after(() => forwarder.kill());
  await forwarder.waitForOutput(/publishers connect to/);
  assert.deepEqual(await forwarder.kill("SIGINT"), { code: 0, signal: null });
});

test("a bad config gets one line naming the file and the field, and exit code 2", async () => {
  const wrongType = join(dir, "wrong-type.json");
  writeFileSync(wrongType, JSON.stringify({ forwarders: [{ pub: "tcp://127.0.0.1:1", sub: 5 }] }));
  const result = await runCommand(["forwarder/main.ts", "--config", wrongType]);
  assert.equal(result.code, 2);
  assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`${wrongType}.*forwarders\\[0\\]\\.sub`));

  const notJson = join(dir, "not-json.json");
  writeFileSync(notJson, "{ nope");
  const viaEnvironment = await runCommand(["forwarder/main.ts"], { env: { ZRAFT_CONFIG: notJson } });
  assert.equal(viaEnvironment.code, 2);
  assert.match(viaEnvironment.stderr, /not-json\.json.*not valid JSON/);
});

test("a bad command line gets usage and exit code 2", async () => {
  for (const args of [["--bogus"], ["--index", "7"], ["--index", "x"], ["extra"], ["--log-level", "loud"]]) {
    const result = await runCommand(["forwarder/main.ts", ...args]);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, /usage: npm run forwarder/);
  }
});

test("a port in use gets one clear line and exit code 1", async (t) => {
  const { path, pub } = await configOnFreePorts();
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(Number(new URL(pub).port), "127.0.0.1", resolve));
  t.after(() => squatter.close());
  const result = await runCommand(["forwarder/main.ts", "--config", path]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`cannot bind ${pub} \\(forwarders\\[0\\]\\.pub\\): Address already in use`));
});

test("it stops by itself when the process that started it is killed with SIGKILL", async (t) => {
  const { path } = await configOnFreePorts();
  // A stand-in launcher: starts the forwarder the way scripts/cluster.ts does, prints its pid, then idles.
  const launcher = spawn(
    process.execPath,
    [
      "-e",
      `const { spawn } = require("node:child_process");
       const child = spawn(process.execPath, ["--import", "tsx", "forwarder/main.ts", "--config", ${JSON.stringify(path)}],
         { stdio: "ignore", env: { ...process.env, ZRAFT_PARENT_PID: String(process.pid) } });
       console.log(child.pid);
       setInterval(() => {}, 1000);`,
    ],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
  );
  t.after(() => launcher.kill("SIGKILL"));
  const forwarderPid = await new Promise<number>((resolve) => launcher.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString()))));
  t.after(() => {
    if (isProcessAlive(forwarderPid)) process.kill(forwarderPid, "SIGKILL");
  });
  assert.ok(isProcessAlive(forwarderPid));
  launcher.kill("SIGKILL");
  await waitFor(() => !isProcessAlive(forwarderPid), { timeoutMs: 10_000, what: `forwarder ${forwarderPid} to exit` });
});
