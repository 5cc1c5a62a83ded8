/**
 * `zraft snapshot`, `zraft backup` and `zraft restore` on real processes
 * (docs/protocol.md §1, §4; docs/architecture.md §8): a snapshot on a
 * follower is reported with where it ends; a backup of the leader's
 * snapshot is written whole and never over an existing file; a second
 * cluster seeded from it by `restore` starts, elects a leader and holds
 * every key of the backup (and none written after it), its sessions too;
 * and a restore into directories that hold data is refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, runCommand } from "./harness.ts";
import { requestLeader } from "./cluster-wire.ts";

const ctl = (configPath: string, ...args: string[]) => runCommand(["client/ctl.ts", "--config", configPath, ...args], { timeoutMs: 60_000 });

const keyOf = (n: number): string => `city/${String(n).padStart(4, "0")}`;
/** Some values of 300 KiB, so that the image spans several chunks. */
const valueOf = (n: number): string => (n % 50 === 0 ? `${n}:`.padEnd(300_000, "x") : `population ${n * 37}`);
const keys = 400;

test("a backup of a running cluster seeds a new cluster that holds every key of it", async (t) => {
  const source = await TestCluster.start(t);
  const leader = await source.findLeader({ timeoutMs: 20_000 });
  const client = source.client({ deadlineMs: 30_000 });
  for (let n = 0; n < keys; n += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.put(keyOf(n + i), valueOf(n + i))));
  }
  const sessionWrite = { op: "put", key: "session-key", value: "first", client: "backup-test", seq: 1 };
  const original = await requestLeader(source, sessionWrite);
  assert.equal(original.reply.ok, true);
  const storedKeys = keys + 1;

  const follower = source.serverIds.find((id) => id !== leader.id)!;
  const snapshot = await ctl(source.configPath, "snapshot", String(follower));
  assert.equal(snapshot.code, 0, snapshot.stderr);
  const stored = /^server (\d+) stored a snapshot up to entry (\d+) \(term (\d+)\)\n$/.exec(snapshot.stdout);
  assert.ok(stored !== null, snapshot.stdout);
  assert.equal(Number(stored[1]), follower);
  assert.ok(Number(stored[2]) > keys, "the snapshot covers every write");
  const status = await ctl(source.configPath, "status", String(follower), "--json");
  assert.equal(JSON.parse(status.stdout).snapshotIndex, Number(stored[2]));

  const file = join(source.dir, "cities.zbk");
  const backup = await ctl(source.configPath, "backup", file);
  assert.equal(backup.code, 0, backup.stderr);
  // Whoever leads when the backup starts: on a loaded machine leadership may have moved since.
  assert.match(backup.stdout, new RegExp(`^backup of server \\d+ up to entry \\d+ \\(term \\d+\\): [\\d.]+ (KiB|MiB) in \\d+ chunks, ${storedKeys} keys → .*cities\\.zbk\\n$`));
  assert.ok(Number(/in (\d+) chunks/.exec(backup.stdout)![1]) > 1, "several chunks");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(existsSync(`${file}.tmp`), false);
  const again = await ctl(source.configPath, "backup", file);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^zraft ctl: backup failed: cannot write .*cities\.zbk: it exists already, and is not overwritten/);
  await client.put("after-backup", "not in the backup");

  const copy = await TestCluster.create(t);
  const restore = await ctl(copy.configPath, "restore", file);
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(restore.stdout, new RegExp(`backup of server \\d+ up to entry \\d+ .*, ${storedKeys} keys; checksum and image verified\\nrestored it as the data of servers 1, 2, 3, 4, 5:\\n`));
  const refused = await ctl(copy.configPath, "restore", file);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^zraft ctl: nothing was restored: server-1, server-2, server-3, server-4 and server-5 in .* already hold data/);

  await copy.startAll();
  await copy.findLeader({ timeoutMs: 20_000 });
  const restored = copy.client({ deadlineMs: 30_000 });
  for (let n = 0; n < keys; n++) assert.equal((await restored.get(keyOf(n))).value, valueOf(n), keyOf(n));
  assert.equal((await restored.get("after-backup")).found, false, "the backup is the store as it was when it was taken");
  // The sessions came along: a retry of a write in the backup gets its original reply and is not applied again.
  const retry = await requestLeader(copy, { ...sessionWrite, value: "second" });
  assert.deepEqual([retry.reply.ok, retry.reply.index], [true, original.reply.index]);
  assert.equal((await restored.get("session-key")).value, "first");
  const written = await restored.put("after-restore", "yes");
  assert.ok(written.index > Number(stored[2]), "the restored log goes on after the snapshot");
});
