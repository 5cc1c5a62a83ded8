/**
 * Membership changes on real processes (Raft dissertation ch. 4;
 * docs/protocol.md §1, §4): a cluster seeded with servers 1 to 3 grows to 5
 * and then 7 voters, each new server started with --join and added by
 * `zraft add`, then shrinks to 3 by `zraft remove`, its leader among the
 * removed, while clients write all along; every acknowledged write is read
 * back, the survivors agree on the configuration, and every removed server
 * says it is no longer a member and stands for no election. And a second
 * change while the first is not committed is refused (dissertation §4.1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ZraftClient } from "../../src/client/zraft-client.ts";
import { clientEndpointOf, requestOnce } from "./cluster-wire.ts";
import { TestCluster, runCommand, waitFor, type CommandResult } from "./harness.ts";

/** Writers that put keys of their own, one after another, recording each write acknowledged. */
class Writers {
  readonly acknowledged = new Map<string, string>();
  #stopped = false;
  readonly #loops: Promise<void>[];

  constructor(clients: readonly ZraftClient[]) {
    this.#loops = clients.map((client, writer) => this.#write(client, writer));
  }

  async #write(client: ZraftClient, writer: number): Promise<void> {
    for (let n = 0; !this.#stopped; n++) {
      const key = `w${writer}/${n}`;
      const value = `value ${n} of writer ${writer}`;
      try {
        await client.put(key, value);
        this.acknowledged.set(key, value);
      } catch {
        // Not acknowledged (a client deadline during a change of leader): it may or may not be there.
      }
    }
  }

  /** Resolves once `count` more writes have been acknowledged: the cluster takes writes. */
  async progress(count = 20): Promise<void> {
    const target = this.acknowledged.size + count;
    await waitFor(() => this.acknowledged.size >= target, { timeoutMs: 20_000, what: `${count} more acknowledged writes` });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }
}

function succeeded(result: CommandResult, what: string): string {
  assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  return result.stdout;
}

test("3 → 5 → 7 voters and back to 3 while clients write: nothing acknowledged is lost, the survivors agree, the removed step aside", async (t) => {
  const cluster = await TestCluster.create(t, { servers: 7 });
  // Servers 1 to 3 know only each other: the config file seeds the first configuration, nothing more.
  const firstThree = join(cluster.dir, "first-three.json");
  writeFileSync(firstThree, `${JSON.stringify({ ...cluster.config, servers: cluster.config.servers.slice(0, 3) }, null, 2)}\n`);
  const ctl = (...args: string[]): Promise<CommandResult> => runCommand(["client/ctl.ts", "--config", cluster.configPath, ...args], { timeoutMs: 60_000 });
  const endpointOf = (id: number): string => cluster.config.servers[id - 1]!.client;

  await cluster.startForwarder();
  for (const id of [1, 2, 3]) cluster.startServer(id, [], firstThree);
  for (const id of [4, 5, 6, 7]) cluster.startServer(id, ["--join"]);
  await Promise.all(cluster.serverIds.map((id) => cluster.waitForServer(id)));
  const joining = await cluster.status(6);
  assert.deepEqual(joining?.members, [], "a server started with --join knows no configuration");
  await cluster.findLeader({ timeoutMs: 20_000 });

  const writers = new Writers(Array.from({ length: 3 }, () => cluster.client({ deadlineMs: 30_000 })));
  try {
    await writers.progress();
    for (const id of [4, 5, 6, 7]) {
      const added = succeeded(await ctl("add", String(id), "--client", endpointOf(id)), `add ${id}`);
      assert.match(added, new RegExp(`^server ${id} added as a learner \\(entry \\d+\\); waiting for it to catch up\\nserver ${id} caught up and is a voter\\n$`));
      await writers.progress();
    }
    const seven = JSON.parse(succeeded(await ctl("members", "--json"), "members"));
    assert.deepEqual(seven.members, cluster.config.servers.map((server) => ({ id: server.id, client: server.client, voter: true })));

    // Servers 1 to 4 go, the leader among them: whenever one of them leads, it is the next to go, and when
    // none does before the leader has gone, leadership is handed to one of them first.
    const victims = new Set([1, 2, 3, 4]);
    const voters = new Set([1, 2, 3, 4, 5, 6, 7]);
    let leaderRemoved = false;
    for (let attempt = 0; victims.size > 0; attempt++) {
      assert.ok(attempt < 20, "the removals went through");
      const leader = (await cluster.findLeader()).id;
      if (!leaderRemoved && !victims.has(leader)) {
        await ctl("transfer", String([...victims][0]));
        continue;
      }
      const id = victims.has(leader) ? leader : ([...victims][0] as number);
      const removed = succeeded(await ctl("remove", String(id)), `remove ${id}`);
      victims.delete(id);
      voters.delete(id);
      // The command says so when the server that made the change removed itself (its leadership may have moved since the look).
      const led = new RegExp(`^server ${id} removed \\(entry \\d+\\); voters now ${[...voters].join(",")}(; it led, and has stepped down: the voters left elect a leader)?\\n$`).exec(removed);
      assert.ok(led !== null, removed);
      leaderRemoved ||= led[1] !== undefined;
      await writers.progress();
    }
    assert.ok(leaderRemoved, "a leader removed itself");
  } finally {
    await writers.stop();
  }

  const reader = cluster.client({ deadlineMs: 30_000 });
  assert.ok(writers.acknowledged.size > 100, `writes went on throughout (${writers.acknowledged.size})`);
  for (const [key, value] of writers.acknowledged) assert.equal((await reader.get(key)).value, value, key);

  const survivors = await Promise.all([5, 6, 7].map((id) => cluster.status(id)));
  const expected = [5, 6, 7].map((id) => ({ id, client: endpointOf(id), voter: true }));
  for (const status of survivors) assert.deepEqual(status?.members, expected, `server ${status?.id}'s configuration`);
  assert.equal(JSON.parse(succeeded(await ctl("members", "--json"), "members")).members.length, 3);
  // A config that lists none of the survivors still finds them: the removed servers' configurations name them.
  const throughFirstThree = await runCommand(["client/ctl.ts", "--config", firstThree, "members", "--json"], { timeoutMs: 60_000 });
  assert.deepEqual(JSON.parse(succeeded(throughFirstThree, "members through the first three's config")).members, expected);

  // A removed server holds the configuration that removed it (later ones do not reach it), and stands for no
  // election however long it waits.
  const removedBefore = await Promise.all([1, 2, 3, 4].map((id) => cluster.status(id)));
  await sleep(1_500);
  for (const [i, id] of [1, 2, 3, 4].entries()) {
    const status = await cluster.status(id);
    assert.ok(status !== undefined, `server ${id} still runs`);
    assert.ok(!status.members.some((member) => member.id === id), `server ${id} is no member: ${JSON.stringify(status.members)}`);
    assert.equal(status.role, "follower");
    assert.equal(status.term, removedBefore[i]?.term, `server ${id} raised no term`);
    assert.match(cluster.process(`server-${id}`)?.output() ?? "", /info +configuration: voters [\d,]+; this server is not a member\n/);
  }
});

test("a second change while the first is not committed is refused with the reason; the first then commits", async (t) => {
  // Long timeouts: the leader keeps office while its followers are paused for a moment.
  const cluster = await TestCluster.start(t, { servers: 3, electionTimeoutMs: [1_500, 3_000] });
  const leader = await cluster.findLeader({ timeoutMs: 20_000 });
  const followers = cluster.serverIds.filter((id) => id !== leader.id);
  const endpoint = clientEndpointOf(cluster, leader.id);
  // A leader changes the configuration only once an entry of its term is committed (the §4.1 correction).
  const written = await requestOnce(endpoint, { op: "put", key: "k", value: "v" });
  assert.equal(written.ok, true, JSON.stringify(written));
  // Paused, the followers cannot store the first change: it stays uncommitted until they resume.
  for (const id of followers) cluster.signalServer(id, "SIGSTOP");
  t.after(() => followers.forEach((id) => cluster.signalServer(id, "SIGCONT")));
  const first = requestOnce(endpoint, { op: "admin", action: "add", target: 9, client: "tcp://127.0.0.1:9", rid: "first" });
  await sleep(200);
  const second = await requestOnce(endpoint, { op: "admin", action: "remove", target: followers[0]!, rid: "second" });
  assert.equal(second.error, "BAD_REQUEST", JSON.stringify(second));
  assert.match(String(second.message), new RegExp(`^server ${leader.id} cannot remove server ${followers[0]}: the configuration change at entry \\d+ is not committed yet$`));
  for (const id of followers) cluster.signalServer(id, "SIGCONT");
  const added = await first;
  assert.equal(added.ok, true, JSON.stringify(added));
  assert.deepEqual((added.members as { id: number; voter: boolean }[]).map(({ id, voter }) => [id, voter]), [[1, true], [2, true], [3, true], [9, false]]);
});
