/**
 * Seeding storages from a backup (src/backup/restore.ts): every server's
 * storage is created holding the backup's snapshot in place of a log, with
 * the snapshot's term and index and the new cluster's membership as its
 * core chunk, from which a KvStore restores every key;
 * a data directory that holds anything is refused before anything is
 * written; and a backup file is written whole or not at all, never over an
 * existing file (src/backup/new-file.ts).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack, unpack } from "msgpackr";
import { decodeBackup, encodeBackup } from "../../src/backup/backup-file.ts";
import { NewFileError, checkNewFile, writeNewFile } from "../../src/backup/new-file.ts";
import { RestoreError, restoreBackup } from "../../src/backup/restore.ts";
import { encodeSnapshotChunks } from "../../src/kv/kv-snapshot.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import { snapshotMembership, stateChunksOf, type Membership } from "../../src/raft/index.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";

/** The new cluster's seed: servers 1 to 3, whatever server the backup came from. */
const seed: Membership = { voters: [1, 2, 3], learners: [], context: '{"1":"tcp://127.0.0.1:6001"}' };

function temporaryDirectory(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "zraft-restore-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const entries = Array.from({ length: 50 }, (_, n) => [`k${n}`, Uint8Array.from(pack(`value ${n}`))] as const);
const backup = decodeBackup(
  Buffer.concat(encodeBackup({ meta: { index: 700, term: 4 }, createdAt: new Date().toISOString(), server: 2 }, [...encodeSnapshotChunks({ entries, sessions: [], clockMs: 5 })])),
);

test("every server's storage holds the snapshot in place of a log, with its term and index, and restores every key", async (t) => {
  const dataDir = join(temporaryDirectory(t), "data");
  const written = await restoreBackup(backup, dataDir, seed);
  assert.deepEqual(written, [1, 2, 3].map((id) => join(dataDir, `server-${id}`)));
  for (const id of [1, 2, 3]) {
    const storage = await LmdbStorage.open(dataDir, id);
    try {
      const state = await storage.load();
      assert.deepEqual(state.hardState, { currentTerm: 4, votedFor: null, commitIndex: 700 });
      assert.deepEqual(state.entries, []);
      assert.deepEqual(state.logStart, { index: 700, term: 4 });
      assert.deepEqual(state.snapshot, { index: 700, term: 4 });
      const stored = storage.readSnapshot();
      assert.ok(stored !== null);
      assert.deepEqual(snapshotMembership(stored.chunks()), seed, "the snapshot keeps the new cluster's membership");
      const kv = new KvStore();
      kv.restore(stored.meta.index, stateChunksOf(stored.chunks()));
      assert.equal(kv.lastApplied, 700);
      const answer = kv.query({ op: "get", key: "k49" });
      assert.ok(answer.op === "get" && answer.value !== null);
      assert.equal(unpack(answer.value), "value 49");
    } finally {
      await storage.close();
    }
  }
});

test("a data directory that holds anything is refused before anything is written; an empty one is used", async (t) => {
  const dataDir = temporaryDirectory(t);
  mkdirSync(join(dataDir, "server-2"));
  writeFileSync(join(dataDir, "server-2", "data.mdb"), "");
  await assert.rejects(restoreBackup(backup, dataDir, seed), (error: unknown) => {
    assert.ok(error instanceof RestoreError);
    assert.match(error.message, /^server-2 in .* already holds data; a restore seeds a new cluster and never overwrites one/);
    return true;
  });
  assert.deepEqual(readdirSync(dataDir), ["server-2"], "nothing written for servers 1 and 3");

  rmSync(join(dataDir, "server-2", "data.mdb"));
  await restoreBackup(backup, dataDir, seed);
  assert.ok(readdirSync(join(dataDir, "server-2")).length > 0);
});

test("a new file is written whole, private, and never over an existing one", (t) => {
  const dir = temporaryDirectory(t);
  const path = join(dir, "cluster.zbk");
  checkNewFile(path);
  writeNewFile(path, [Uint8Array.of(1, 2), Uint8Array.of(3)]);
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(existsSync(`${path}.tmp`), false, "no temporary file is left");

  const refusal = /cannot write .*cluster\.zbk: it exists already, and is not overwritten/;
  assert.throws(() => checkNewFile(path), (error: unknown) => error instanceof NewFileError && refusal.test(error.message));
  assert.throws(() => writeNewFile(path, [Uint8Array.of(9)]), (error: unknown) => error instanceof NewFileError && refusal.test(error.message));
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  assert.equal(existsSync(`${path}.tmp`), false);

  const other = join(dir, "other.zbk");
  writeFileSync(`${other}.tmp`, "left by an interrupted backup");
  assert.throws(() => checkNewFile(other), /other\.zbk\.tmp: another backup to this file is running, or one was interrupted/);
  assert.throws(() => writeNewFile(other, [Uint8Array.of(9)]), /other\.zbk\.tmp: another backup to this file is running/);
  assert.equal(existsSync(other), false);
});
