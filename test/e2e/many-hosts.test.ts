/**
 * The deployment of docs/deployment.md, as far as one machine can show it:
 * two forwarders and five servers, each in its own network namespace with
 * its own address on a bridge (as on separate hosts: no shared loopback),
 * the config naming those addresses, CURVE on. The cluster elects a leader,
 * serves a client on the host, survives losing its leader and one
 * forwarder, and every write is read back. Needs root and `ip netns`; skips
 * with the reason otherwise.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curveKeyPair } from "zeromq";
import { statusOnce } from "../../src/client/status-once.ts";
import { ZraftClient, type StatusReply } from "../../src/client/zraft-client.ts";
import { parentPidVariable } from "../../src/cli/parent-watchdog.ts";
import { loadClusterConfig } from "../../src/config/cluster-config.ts";
import { repoRoot, waitFor } from "../../src/local-cluster/index.ts";
import { environmentFor, nodeArgumentsFor } from "../../src/local-cluster/program-command.ts";

const subnet = "10.231.77";
const prefix = `zr${process.pid % 100_000}`;
const bridge = `${prefix}br`;
const hosts = [
  { name: "forwarder-0", address: `${subnet}.10` },
  { name: "forwarder-1", address: `${subnet}.11` },
  ...[1, 2, 3, 4, 5].map((id) => ({ name: `server-${id}`, address: `${subnet}.${20 + id}` })),
];
const namespaceOf = (name: string): string => `${prefix}-${name}`;

function ip(...args: string[]): { ok: boolean; error: string } {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  return { ok: result.status === 0, error: (result.stderr || result.error?.message || "").trim() };
}

/** Why the test cannot run here, or undefined when it can. */
function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  const probe = `${prefix}-probe`;
  const added = ip("netns", "add", probe);
  if (!added.ok) return `ip netns add failed: ${added.error}`;
  ip("netns", "del", probe);
  const bridged = ip("link", "add", `${prefix}pb`, "type", "bridge");
  if (!bridged.ok) return `a bridge cannot be made: ${bridged.error}`;
  ip("link", "del", `${prefix}pb`);
  return undefined;
}

function must(...args: string[]): void {
  const result = ip(...args);
  if (!result.ok) throw new Error(`ip ${args.join(" ")}: ${result.error}`);
}

/** A bridge on the host at .1, and per host a namespace joined to it by a veth pair. */
function buildNetwork(): void {
  must("link", "add", bridge, "type", "bridge");
  must("addr", "add", `${subnet}.1/24`, "dev", bridge);
  must("link", "set", bridge, "up");
  hosts.forEach(({ name, address }, i) => {
    const namespace = namespaceOf(name);
    const outside = `${prefix}v${i}`;
    must("netns", "add", namespace);
    must("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace);
    must("link", "set", outside, "master", bridge, "up");
    must("-n", namespace, "addr", "add", `${address}/24`, "dev", "eth0");
    must("-n", namespace, "link", "set", "eth0", "up");
    must("-n", namespace, "link", "set", "lo", "up");
  });
}

function tearDownNetwork(): void {
  for (const { name } of hosts) ip("netns", "del", namespaceOf(name));
  ip("link", "del", bridge);
}

const reason = whyNot();

test("two forwarders and five servers on hosts of their own, CURVE on: a leader, writes, and the loss of the leader and a forwarder", { skip: reason }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-hosts-"));
  const children = new Map<string, ChildProcess>();
  t.after(() => {
    for (const child of children.values()) child.kill("SIGKILL");
    tearDownNetwork();
    if ((t as unknown as { passed?: boolean }).passed === false) {
      for (const { name } of hosts) process.stderr.write(`--- ${name}\n${readLog(join(dir, `${name}.log`)).split("\n").slice(-15).join("\n")}\n`);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  buildNetwork();

  const clusterKeys = curveKeyPair();
  const clientKeys = curveKeyPair();
  const configPath = join(dir, "cluster.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      forwarders: hosts.slice(0, 2).map(({ address }) => ({ pub: `tcp://${address}:5011`, sub: `tcp://${address}:5012` })),
      servers: hosts.slice(2).map(({ address }, i) => ({ id: i + 1, client: `tcp://${address}:5000` })),
      dataDir: join(dir, "data"),
      curve: clusterKeys,
    }),
  );
  const config = loadClusterConfig(configPath);
  const curve = { serverPublicKey: clusterKeys.publicKey, ...clientKeys };

  const start = (name: string, args: readonly string[]): void => {
    const log = openSync(join(dir, `${name}.log`), "a");
    const child = spawn("ip", ["netns", "exec", namespaceOf(name), process.execPath, ...nodeArgumentsFor(args)], {
      cwd: repoRoot,
      stdio: ["ignore", log, log],
      // `ip netns exec` execs node in place: this test process stays its parent, so the watchdog applies.
      env: { ...process.env, ...environmentFor(args), NO_COLOR: "1", [parentPidVariable]: String(process.pid) },
    });
    closeSync(log);
    children.set(name, child);
  };
  for (const index of [0, 1]) start(`forwarder-${index}`, ["forwarder/main.ts", "--config", configPath, "--index", String(index)]);
  for (const id of [1, 2, 3, 4, 5]) start(`server-${id}`, ["src/server/main.ts", "--id", String(id), "--config", configPath]);

  const statuses = async (): Promise<StatusReply[]> =>
    (await Promise.all([1, 2, 3, 4, 5].map((id) => statusOnce(config, curve, id, 500)))).filter((status): status is StatusReply => status !== undefined);
  const leaderOf = async (except?: number): Promise<StatusReply | undefined> => {
    const all = await statuses();
    const top = Math.max(...all.map((status) => status.term));
    const leader = all.find((status) => status.role === "leader" && status.term === top && status.id !== except);
    return leader !== undefined && all.filter((status) => status.leaderId === leader.id && status.term === top).length >= 3 ? leader : undefined;
  };
  const leader = await waitFor(() => leaderOf(), { timeoutMs: 30_000, what: "a leader over the namespaces" });

  const client = new ZraftClient({ config, curve, requestTimeoutMs: 1_000, deadlineMs: 20_000 });
  t.after(() => client.close());
  const written = new Map<string, string>();
  const write = async (key: string, value: string): Promise<void> => {
    assert.equal((await client.put(key, value)).ok, true);
    written.set(key, value);
  };
  for (let i = 0; i < 20; i++) await write(`hosts/before/${i}`, `v${i}`);

  children.get(`server-${leader.id}`)?.kill("SIGKILL");
  const successor = await waitFor(() => leaderOf(leader.id), { timeoutMs: 30_000, what: "a new leader after the old one was killed" });
  assert.ok(successor.term > leader.term);
  for (let i = 0; i < 20; i++) await write(`hosts/after-leader/${i}`, `v${i}`);

  children.get("forwarder-0")?.kill("SIGKILL");
  for (let i = 0; i < 20; i++) await write(`hosts/after-forwarder/${i}`, `v${i}`);
  const now = await leaderOf();
  assert.equal(now?.id, successor.id, "losing one of two forwarders changed no leader");

  for (const [key, value] of written) assert.equal((await client.get(key)).value, value, key);
});

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
