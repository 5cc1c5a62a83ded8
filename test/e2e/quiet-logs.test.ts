/**
 * Logs an operator reads (issue 13), on real processes: an idle cluster
 * logs nothing at info once it has a leader and its followers have caught
 * up; a follower that is killed and restarted is logged on both sides (the
 * leader: silent, back and how far behind, caught up; the follower: what it
 * replayed, and when it caught up); `npm start` passes --log-level and
 * --log-json on to every process, and refuses a bad level with exit code 2.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ManagedProcess, TestCluster, runCommand, waitFor } from "./harness.ts";

const infoLine = /^\S+ info /m;

/** What each process printed since `marks` was taken. */
function outputSince(cluster: TestCluster, marks: ReadonlyMap<string, number>): Map<string, string> {
  return new Map([...marks].map(([name, at]) => [name, cluster.process(name)?.output().slice(at) ?? ""]));
}

function marksOf(cluster: TestCluster): Map<string, number> {
  const names = ["forwarder-0", ...cluster.serverIds.map((id) => `server-${id}`)];
  return new Map(names.map((name) => [name, cluster.process(name)?.output().length ?? 0]));
}

test("an idle cluster logs nothing at info once it has a leader; a restarted follower is logged on both sides", async (t) => {
  const cluster = await TestCluster.start(t);
  const leader = await cluster.findLeader();
  const followers = cluster.serverIds.filter((id) => id !== leader.id);
  await waitFor(() => followers.every((id) => /caught up with the leader/.test(cluster.process(`server-${id}`)?.output() ?? "")), {
    timeoutMs: 10_000,
    what: "every follower to say it has caught up",
  });
  await cluster.process("forwarder-0")?.waitForOutput(/joined: 5 on the bus/, { timeoutMs: 5_000 });

  // Longer than the forwarder's 5 s report interval; poll, so that a line fails the test as soon as it appears.
  const idle = marksOf(cluster);
  for (const start = Date.now(); Date.now() - start < 6_500; await sleep(250)) {
    for (const [name, text] of outputSince(cluster, idle)) assert.doesNotMatch(text, infoLine, `${name} logged at info while the cluster was idle:\n${text}`);
  }

  const follower = followers[0] as number;
  const client = cluster.client();
  await client.put("before", "the restart");
  await cluster.kill(follower);
  for (let i = 0; i < 200; i++) await client.put(`missed-${i}`, "while it was down");
  const leaderLog = (): string => cluster.process(`server-${leader.id}`)?.output() ?? "";
  await waitFor(() => new RegExp(`warn +server ${follower} has gone silent: last heard \\d+\\.\\d s ago`).test(leaderLog()), {
    timeoutMs: 10_000,
    what: `the leader to say server ${follower} has gone silent`,
  });
  const beforeRestart = marksOf(cluster);
  await cluster.restart(follower);
  await waitFor(() => /info +caught up with the leader, server \d: applied up to \d+, [\d,]+ entr(y|ies) after the replay/.test(outputSince(cluster, beforeRestart).get(`server-${follower}`) ?? ""), {
    timeoutMs: 10_000,
    what: `server ${follower} to say it has caught up`,
  });
  const restarted = outputSince(cluster, beforeRestart).get(`server-${follower}`) ?? "";
  assert.match(restarted, /serving clients .*: term \d+, \d+ log entries, \d+ committed, \d+ applied \(\d+ replayed\) in \d+ ms\n/, "it says what it replayed");
  await waitFor(() => new RegExp(`info +server ${follower} is back \\(last heard \\d+\\.\\d s ago\\)`).test(outputSince(cluster, beforeRestart).get(`server-${leader.id}`) ?? ""), {
    timeoutMs: 10_000,
    what: `the leader to say server ${follower} is back`,
  });
  // 200 writes (and the leader's no-ops) were missed: either caught up in the same breath or a line later.
  await waitFor(
    () => new RegExp(`server ${follower} (is back \\(.*\\) and has already caught up|caught up): [\\d,]+ entries`).test(outputSince(cluster, beforeRestart).get(`server-${leader.id}`) ?? ""),
    { timeoutMs: 10_000, what: `the leader to say server ${follower} has caught up` },
  );
});

test("npm start passes --log-level and --log-json on to every process, and refuses a bad level with exit code 2", async (t) => {
  const cluster = await TestCluster.create(t);
  const jsonFile = join(cluster.dir, "cluster.jsonl");
  const launcher = ManagedProcess.spawn("launcher", ["scripts/cluster.ts", "--config", cluster.configPath, "--log-level", "debug", "--log-json", jsonFile], {
    logFile: join(cluster.dir, "launcher.log"),
  });
  t.after(() => launcher.kill("SIGKILL"));
  await cluster.findLeader({ timeoutMs: 30_000 });
  await launcher.waitForOutput(/forwarder +│ \S+ debug +relayed \d+ messages/, { timeoutMs: 15_000 });
  const sources = (): Set<string> =>
    new Set(readFileSync(jsonFile, "utf8").trim().split("\n").map((line) => (JSON.parse(line) as { server: string }).server));
  await waitFor(() => ["forwarder 0", ...cluster.serverIds.map((id) => `server ${id}`)].every((name) => sources().has(name)), {
    timeoutMs: 10_000,
    what: "every process to write to the one JSON log file",
  });
  assert.deepEqual(await launcher.kill("SIGINT"), { code: 0, signal: null });

  const bad = await runCommand(["scripts/cluster.ts", "--log-level", "loud"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^cluster: --log-level must be one of error, warn, info, debug, got "loud"\nusage: npm start -- /);
});
