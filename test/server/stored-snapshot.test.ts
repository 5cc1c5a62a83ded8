/**
 * A server restarts from its stored snapshot (docs/architecture.md §9); one
 * that does not decode is a corrupt file like any other: the server stops
 * with one line naming the data directory and what is wrong, exit code 1,
 * before it binds or joins anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Packr } from "msgpackr";
import { snapshotImage } from "../../src/raft/index.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { runCommand } from "../e2e/harness.ts";

const config = {
  forwarders: [{ pub: "tcp://127.0.0.1:1", sub: "tcp://127.0.0.1:2" }],
  servers: [1, 2, 3].map((id) => ({ id, client: `tcp://127.0.0.1:${id + 2}` })),
};

async function serverWithStoredSnapshot(stateChunks: readonly Uint8Array[]): Promise<{ dir: string; configFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), "zraft-stored-snapshot-"));
  const configFile = join(dir, "cluster.json");
  writeFileSync(configFile, JSON.stringify({ ...config, dataDir: join(dir, "data") }));
  const storage = await LmdbStorage.open(join(dir, "data"), 1);
  // As a follower stores a leader's snapshot: the image replaces the log.
  const chunks = [...snapshotImage({ voters: [1, 2, 3], learners: [], context: "" }, stateChunks)];
  await storage.save({ currentTerm: 2, votedFor: null, commitIndex: 7 }, [], { meta: { index: 7, term: 2 }, chunks });
  await storage.close();
  return { dir, configFile };
}

test("a stored snapshot whose image does not decode stops the server with one line naming it", async (t) => {
  const { dir, configFile } = await serverWithStoredSnapshot([new Packr({ useRecords: false }).pack({ neither: 1 })]);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const result = await runCommand(["src/server/main.ts", "--id", "1", "--config", configFile]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^zraft server: .*server-1.*the stored snapshot up to entry 7 is corrupt: a snapshot chunk holds neither values, sessions nor the clock\n$/);
});

test("a stored snapshot with a session written after its index stops the server too", async (t) => {
  const packr = new Packr({ useRecords: false });
  const sessions = packr.pack({ sessions: [["c", 1, 9, 0, { kind: "put", index: 9 }]] });
  const { dir, configFile } = await serverWithStoredSnapshot([sessions, packr.pack({ clockMs: 0 })]);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const result = await runCommand(["src/server/main.ts", "--id", "1", "--config", configFile]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /the stored snapshot up to entry 7 is corrupt: session "c" last wrote at entry 9, after the snapshot's 7\n$/);
});
