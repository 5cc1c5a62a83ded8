/**
 * The admin actions `snapshot` and `backup` and the status fields of
 * snapshots (docs/protocol.md §4, §5), through KvService over a stand-in
 * runtime: `snapshot` answers once the runtime has stored one, with where it
 * ends; `backup` hands out the stored snapshot's chunks one per request,
 * reading each from storage once when they are fetched in order, says which
 * snapshot each came from (so that a client sees a newer one replace it),
 * and refuses a chunk that does not exist or a server without a snapshot.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ReplyFields } from "../../src/client/client-codec.ts";
import type { SnapshotMeta } from "../../src/raft/index.ts";
import { serviceOver } from "./stand-in-service.ts";

/** A stored snapshot of `count` chunks, each of one byte, its number; `reads` counts the chunks read from it. */
function storedSnapshot(meta: SnapshotMeta, count: number) {
  const snapshot = {
    meta,
    reads: 0,
    *chunks(): Generator<Uint8Array> {
      for (let n = 0; n < count; n++) {
        snapshot.reads++;
        yield Uint8Array.of(n);
      }
    },
  };
  return snapshot;
}

function standInServer() {
  const state = {
    stored: null as ReturnType<typeof storedSnapshot> | null,
    snapshotTaken: Promise.resolve<SnapshotMeta | null>({ index: 0, term: 0 }),
  };
  const runtime = {
    stopping: false,
    status: () => ({ id: 2, role: "follower", term: 4, leaderId: 1, commitIndex: 90, lastApplied: 90, lastLogIndex: 91, logStartIndex: 30, snapshotIndex: 80, votedFor: 1 }),
    snapshotNow: () => state.snapshotTaken,
    storedSnapshot: () => state.stored,
  };
  const { replies, send } = serviceOver(runtime, 2);
  /** The reply to `request`, once every promise it waits for has settled. */
  const ask = async (request: Readonly<Record<string, unknown>>): Promise<ReplyFields> => {
    const before = replies.length;
    send(1, request);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(replies.length, before + 1, "one reply");
    return replies.at(-1)!;
  };
  return { state, ask };
}

test("snapshot answers with where the stored snapshot ends; SHUTTING_DOWN when the server stops first; BAD_REQUEST before any entry applied", async () => {
  const { state, ask } = standInServer();
  state.snapshotTaken = Promise.resolve({ index: 12_345, term: 3 });
  const stored = await ask({ op: "admin", action: "snapshot", rid: 1 });
  assert.deepEqual(stored, { ok: true, action: "snapshot", snapshotIndex: 12_345, snapshotTerm: 3, term: 4, leaderId: 1, rid: 1 });

  state.snapshotTaken = Promise.resolve(null);
  const stopping = await ask({ op: "admin", action: "snapshot" });
  assert.equal(stopping.error, "SHUTTING_DOWN");

  state.snapshotTaken = Promise.resolve({ index: 0, term: 0 });
  const empty = await ask({ op: "admin", action: "snapshot" });
  assert.equal(empty.error, "BAD_REQUEST");
  assert.match(String(empty.message), /server 2 has applied no entries yet: there is nothing to snapshot/);
});

test("backup hands out each chunk with its snapshot's position, reading each once when fetched in order", async () => {
  const { state, ask } = standInServer();
  const none = await ask({ op: "admin", action: "backup", chunk: 0 });
  assert.equal(none.error, "BAD_REQUEST");
  assert.match(String(none.message), /server 2 has no stored snapshot; ask for one first/);

  const snapshot = storedSnapshot({ index: 500, term: 2 }, 3);
  state.stored = snapshot;
  const chunks = [];
  for (let chunk = 0; chunk < 3; chunk++) chunks.push(await ask({ op: "admin", action: "backup", chunk }));
  assert.deepEqual(
    chunks.map(({ action, snapshotIndex, snapshotTerm, chunk, last, data }) => ({ action, snapshotIndex, snapshotTerm, chunk, last, data: [...(data as Uint8Array)] })),
    [
      { action: "backup", snapshotIndex: 500, snapshotTerm: 2, chunk: 0, last: false, data: [0] },
      { action: "backup", snapshotIndex: 500, snapshotTerm: 2, chunk: 1, last: false, data: [1] },
      { action: "backup", snapshotIndex: 500, snapshotTerm: 2, chunk: 2, last: true, data: [2] },
    ],
  );
  assert.equal(snapshot.reads, 3, "each chunk read once");

  const past = await ask({ op: "admin", action: "backup", chunk: 3 });
  assert.equal(past.error, "BAD_REQUEST");
  assert.match(String(past.message), /the stored snapshot up to entry 500 has 3 chunks \(0 to 2\); there is no chunk 3/);

  // An earlier chunk again: read from the start.
  const again = await ask({ op: "admin", action: "backup", chunk: 1 });
  assert.deepEqual([...(again.data as Uint8Array)], [1]);
});

test("a newer snapshot that replaced the stored one is what the next chunk comes from, and says so", async () => {
  const { state, ask } = standInServer();
  state.stored = storedSnapshot({ index: 500, term: 2 }, 3);
  assert.equal((await ask({ op: "admin", action: "backup", chunk: 0 })).snapshotIndex, 500);
  state.stored = storedSnapshot({ index: 900, term: 3 }, 2);
  const next = await ask({ op: "admin", action: "backup", chunk: 1 });
  assert.deepEqual([next.snapshotIndex, next.snapshotTerm, next.chunk, next.last], [900, 3, 1, true]);
});

test("status carries where the log starts and where the stored snapshot ends", async () => {
  const { ask } = standInServer();
  const status = await ask({ op: "status" });
  assert.equal(status.logStartIndex, 30);
  assert.equal(status.snapshotIndex, 80);
});
