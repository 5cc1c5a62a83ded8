/**
 * Proves `npm start` (scripts/cluster.ts, docs/protocol.md §1): it starts one
 * forwarder and five servers that form a working cluster, prefixes every
 * line with the process's name (no colour when stdout is not a terminal),
 * stops them all on SIGINT with exit code 0 (a SIGINT delivered twice at
 * once, as under npm, still stopping them cleanly), leaves no child behind when it
 * is itself killed with SIGKILL, stops everything with exit code 1 when a
 * child fails at start-up, and refuses a bad config with exit code 2.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { ManagedProcess, TestCluster, isProcessAlive, runCommand, waitFor } from "./harness.ts";

/** Starts the launcher on a fresh config (`forwarders` of them); returns it and the cluster whose config it uses. */
async function startLauncher(t: import("node:test").TestContext, forwarders = 1): Promise<{ launcher: ManagedProcess; cluster: TestCluster }> {
  const cluster = await TestCluster.create(t, { forwarders });
  const launcher = ManagedProcess.spawn("launcher", ["scripts/cluster.ts", "--config", cluster.configPath], {
    logFile: `${cluster.dir}/launcher.log`,
  });
  t.after(async () => {
    await launcher.kill("SIGKILL");
    if ((t as unknown as { passed?: boolean }).passed === false) process.stderr.write(`${launcher.tail(80)}\n`);
  });
  return { launcher, cluster };
}

/** The pids the launcher reports for its children ("started server-3 (pid 1234)"). */
function childPids(output: string): Map<string, number> {
  return new Map([...output.matchAll(/started (\S+) \(pid (\d+)\)/g)].map((match) => [match[1] as string, Number(match[2])]));
}

test("starts a working cluster with prefixed output and stops it on SIGINT with exit code 0", async (t) => {
  const { launcher, cluster } = await startLauncher(t);
  await launcher.waitForOutput(/(serving clients[\s\S]*){5}/, { timeoutMs: 30_000 });
  const pids = childPids(launcher.output());
  assert.deepEqual([...pids.keys()], ["forwarder", "server-1", "server-2", "server-3", "server-4", "server-5"]);

  const leader = await cluster.findLeader({ timeoutMs: 20_000 });
  assert.equal(pids.get(`server-${leader.id}`), leader.pid, "the launcher's children are the cluster's servers");
  // The servers get node's options from scripts/program-node-options.json, as under npm run server.
  const commandLine = readFileSync(`/proc/${leader.pid}/cmdline`, "utf8").split("\0");
  for (const option of ["--max-semi-space-size=2", "--heap-growing-percent=40"]) assert.ok(commandLine.includes(option), `the server runs with ${option}`);
  // And its environment from scripts/program-environment.json.
  const environment = readFileSync(`/proc/${leader.pid}/environ`, "utf8").split("\0");
  assert.ok(environment.includes("MALLOC_MMAP_THRESHOLD_=65536"), "the server runs with MALLOC_MMAP_THRESHOLD_=65536");
  const client = cluster.client();
  assert.equal((await client.put("launched", "yes")).ok, true);

  // Under `npm start` one Ctrl-C arrives twice (from the terminal and relayed by npm): still one clean stop.
  launcher.child.kill("SIGINT");
  const exit = await launcher.kill("SIGINT");
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.doesNotMatch(launcher.output(), /SIGKILL/);
  for (const [name, pid] of pids) assert.ok(!isProcessAlive(pid), `${name} (pid ${pid}) has exited`);
  const lines = launcher.output().trimEnd().split("\n");
  for (const line of lines) assert.match(line, /^(cluster|forwarder|server-[1-5]) *│ /, "every line is prefixed");
  assert.ok(!launcher.output().includes("\x1b["), "no colour when stdout is not a terminal");
  assert.match(launcher.output(), /server-3 +│ \(exited with code 0\)/);
  assert.equal(lines.at(-1), "cluster   │ all stopped");
});

test("no child survives the launcher being killed with SIGKILL", async (t) => {
  const { launcher } = await startLauncher(t);
  await launcher.waitForOutput(/(serving clients[\s\S]*){5}/, { timeoutMs: 30_000 });
  const pids = childPids(launcher.output());
  assert.equal(pids.size, 6);
  t.after(() => {
    for (const pid of pids.values()) if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
  });
  await launcher.kill("SIGKILL");
  await waitFor(() => [...pids.values()].every((pid) => !isProcessAlive(pid)), {
    timeoutMs: 15_000,
    what: "every child of the killed launcher to exit",
  }).catch((error: Error) => {
    const survivors = [...pids].filter(([, pid]) => isProcessAlive(pid)).map(([name, pid]) => `${name} (${processState(pid)})`);
    throw new Error(`${error.message}; still running: ${survivors.join(", ")}`);
  });
});

/** A live process's state and what it waits in, from /proc, for a failure message. */
function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const wchan = readFileSync(`/proc/${pid}/wchan`, "utf8");
    return `state ${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]}, waiting in ${wchan || "-"}`;
  } catch (error) {
    return String(error);
  }
}

test("with two forwarders in the config it starts both; killing one leaves the cluster serving under the same leader", async (t) => {
  const { launcher, cluster } = await startLauncher(t, 2);
  await launcher.waitForOutput(/(serving clients[\s\S]*){5}/, { timeoutMs: 30_000 });
  const pids = childPids(launcher.output());
  assert.deepEqual([...pids.keys()].slice(0, 2), ["forwarder-0", "forwarder-1"]);
  const leader = await cluster.findLeader({ timeoutMs: 20_000 });
  // Past the launcher's start-up window (5 s), in which a child's exit means the cluster could not start.
  await new Promise((resolve) => setTimeout(resolve, 5_500));
  process.kill(pids.get("forwarder-0") as number, "SIGKILL");
  await launcher.waitForOutput(/forwarder-0 +│ \(killed by SIGKILL\)/, { timeoutMs: 10_000 });
  const client = cluster.client();
  for (let i = 0; i < 20; i++) assert.equal((await client.put(`one-forwarder/${i}`, i)).ok, true);
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // several election timeouts
  for (const status of (await cluster.statuses()).values()) assert.equal(status.term, leader.term, `server ${status.id} is still in term ${leader.term}`);
  assert.deepEqual(await launcher.kill("SIGINT"), { code: 0, signal: null });
});

test("a child failing at start-up stops the whole cluster with exit code 1", async (t) => {
  const { launcher, cluster } = await startLauncher(t);
  const pub = new URL((cluster.config.forwarders[0] as { pub: string }).pub);
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(Number(pub.port), "127.0.0.1", resolve));
  t.after(() => squatter.close());
  // The squatter is in place before the forwarder (still compiling) tries to bind.
  const exit = await launcher.exited;
  assert.deepEqual(exit, { code: 1, signal: null });
  assert.match(launcher.output(), /forwarder +│ forwarder: cannot bind/);
  assert.match(launcher.output(), /forwarder stopped during start-up: stopping every process/);
  for (const [name, pid] of childPids(launcher.output())) assert.ok(!isProcessAlive(pid), `${name} has exited`);
});

test("a bad config is refused with one line and exit code 2", async (t) => {
  const cluster = await TestCluster.create(t);
  const badPath = `${cluster.dir}/bad.json`;
  writeFileSync(badPath, JSON.stringify({ heartbeatMs: 500 }));
  const result = await runCommand(["scripts/cluster.ts", "--config", badPath]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^cluster: config .*bad\.json: electionTimeoutMs: low end 150 must be above heartbeatMs 500\n$/);
});
