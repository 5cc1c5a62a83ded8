/**
 * Log compaction in the core (Raft dissertation ch. 5): RaftLog.compact
 * after a snapshot is stored, RaftLog.restore when a follower installs a
 * leader's snapshot, a node restarted from a snapshot and a log tail, and a
 * follower's AppendEntries that reach below its log's start (entries it
 * compacted: committed, so they match any leader's, §5.4).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AssertionError } from "../../src/base/assert.ts";
import { RaftLog } from "../../src/raft/log.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { RaftNode, SeededRandom, raftConfigDefaults, snapshotImage, type AppendEntries, type Entry, type Membership, type SnapshotMeta } from "../../src/raft/index.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";
import { drain, ofType } from "./election-helpers.ts";

/** Entries 1..20, five per term (terms 1..4), in a MemoryStorage; 1..15 committed. */
const entry = (index: number): Entry => ({ index, term: Math.ceil(index / 5), type: "command", data: Uint8Array.of(index) });
const indexesOf = (entries: readonly Entry[]): number[] => entries.map((e) => e.index);
const image = [Uint8Array.of(1, 2), Uint8Array.of(3)];

function storedLog(): { log: RaftLog; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  storage.saveSync({ currentTerm: 4, votedFor: null, commitIndex: 15 }, Array.from({ length: 20 }, (_, i) => entry(i + 1)));
  const log = new RaftLog(storage.loadSync().entries, 15, storage, raftConfigDefaults.logTailBytesMax);
  log.appliedTo(15);
  return { log, storage };
}

/** What the runtime does to compact (the simulator's order): store the snapshot, compact the core's log, then storage's. */
function compact(log: RaftLog, storage: MemoryStorage, snapshot: SnapshotMeta, through: number): void {
  storage.saveSnapshotSync(snapshot, image);
  log.compact(snapshot, through);
  storage.compactSync(through);
  log.checkInvariants();
}

test("compact drops the entries up to `through` and keeps the start's term; the margin up to the snapshot stays", () => {
  const { log, storage } = storedLog();
  compact(log, storage, { index: 12, term: 3 }, 9);
  assert.deepEqual(log.start, { index: 9, term: 2 });
  assert.deepEqual(log.snapshot, { index: 12, term: 3 });
  assert.equal(log.term(9), 2, "the start's term, for the consistency check of entry 10 (§5.3)");
  assert.equal(log.term(8), undefined);
  assert.equal(log.entry(9), undefined);
  assert.deepEqual(indexesOf(log.all()), Array.from({ length: 11 }, (_, i) => i + 10));
  assert.deepEqual(indexesOf(log.slice(10, 3, Number.POSITIVE_INFINITY)), [10, 11, 12], "the margin below the snapshot is still sent as entries");
  assert.throws(() => log.slice(9, 3, Number.POSITIVE_INFINITY), AssertionError, "nothing at or below the start is read");
  assert.equal(log.lastIndexOfTerm(3), 15, "a search over terms reaches storage");
  assert.equal(log.lastIndexOfTerm(1), 0, "it no longer knows where term 1 ended");
  assert.deepEqual(log.snapshotChunk(1), { data: image[1], last: true });
});

test("a newer snapshot moves the start again; compaction never moves it back", () => {
  const { log, storage } = storedLog();
  compact(log, storage, { index: 12, term: 3 }, 12);
  storage.saveSnapshotSync({ index: 14, term: 3 }, image);
  log.compact({ index: 14, term: 3 }, 10);
  assert.deepEqual(log.start, { index: 12, term: 3 }, "a margin reaching below the start keeps the start");
  assert.deepEqual(log.snapshot, { index: 14, term: 3 });
  compact(log, storage, { index: 15, term: 3 }, 15);
  assert.deepEqual(log.start, { index: 15, term: 3 });
  assert.equal(log.snapshotChunk(0)?.data.length, 2, "chunks are read from the stored snapshot");
});

test("compact refuses a snapshot past what is applied or durable, older than the stored one, or not in the log; and a start past the snapshot", () => {
  const { log } = storedLog();
  assert.throws(() => log.compact({ index: 16, term: 4 }, 10), AssertionError, "not applied");
  log.append({ ...entry(21), term: 5 });
  log.commitTo(21);
  log.appliedTo(21);
  assert.throws(() => log.compact({ index: 21, term: 5 }, 10), AssertionError, "applied but not durable");
  assert.throws(() => log.compact({ index: 12, term: 2 }, 10), AssertionError, "a term the log does not hold there");
  assert.throws(() => log.compact({ index: 12, term: 3 }, 13), AssertionError, "the start past the snapshot");
  log.compact({ index: 12, term: 3 }, 12);
  assert.throws(() => log.compact({ index: 11, term: 3 }, 11), AssertionError, "older than the stored snapshot");
});

test("restore empties the log after a leader's snapshot, which counts as committed, applied and durable", () => {
  const { log } = storedLog();
  log.restore({ index: 30, term: 7 });
  assert.equal(log.lastIndex(), 30);
  assert.equal(log.lastTerm(), 7);
  assert.deepEqual(log.all(), []);
  assert.equal(log.commitIndex, 30);
  assert.equal(log.lastApplied, 30);
  assert.equal(log.stableIndex, 30);
  assert.deepEqual(log.unstableEntries(), [], "nothing of the old log is left to store");
  log.checkInvariants();
  assert.deepEqual(log.appendAfter(30, [{ index: 31, term: 7, type: "noop", data: new Uint8Array(0) }]), { matchIndex: 31, firstNew: 31 }, "the log goes on from the snapshot");
});

test("restore at or below the commit index is a bug and throws: it would take applied state back (§5.1)", () => {
  const { log } = storedLog();
  assert.throws(() => log.restore({ index: 15, term: 3 }), AssertionError);
  assert.throws(() => log.restore({ index: 3, term: 1 }), AssertionError);
});

test("a log built from a snapshot and a tail starts applying after the snapshot, its commit index at least there", () => {
  const { log: old, storage } = storedLog();
  compact(old, storage, { index: 12, term: 3 }, 10);
  const { hardState, entries, logStart, snapshot } = storage.loadSync();
  const log = new RaftLog(entries, 5, storage, raftConfigDefaults.logTailBytesMax, logStart, snapshot);
  assert.equal(log.commitIndex, 12, "the saved commit index (5) trails the snapshot's");
  assert.equal(log.lastApplied, 12);
  assert.deepEqual(indexesOf(log.nextCommitted(Number.POSITIVE_INFINITY)), [], "nothing past the snapshot is known committed yet");
  log.commitTo(hardState.commitIndex);
  assert.deepEqual(indexesOf(log.nextCommitted(Number.POSITIVE_INFINITY)), [13, 14, 15]);
  assert.throws(() => log.appendAfter(9, [entry(10)]), AssertionError, "nothing is appended before the start");
});

// ---- a follower whose log starts after entry 10 (term 2): AppendEntries below its start ----

/** Server 1 of 3, a follower of server 2 in term 4, restarted from a snapshot at 12 with its log compacted through 10. */
function compactedFollower() {
  const { log, storage } = storedLog();
  compact(log, storage, { index: 12, term: 3 }, 10);
  const { hardState, entries, logStart, snapshot } = storage.loadSync();
  const logger = new RecordingLogger();
  const node = new RaftNode({
    config: { ...raftConfigDefaults, id: 1, peers: [1, 2, 3] },
    hardState,
    entries,
    storage,
    logStart,
    snapshot,
    nowMs: 0,
    random: new SeededRandom(1),
    logger,
  });
  drain(node);
  return { node, logger };
}

function appendFrom2(prevLogIndex: number, entries: readonly Entry[]): AppendEntries {
  return { type: "AppendEntries", term: 4, from: 2, to: 1, prevLogIndex, prevLogTerm: entry(prevLogIndex).term, entries, leaderCommit: 15, readRound: 0 };
}

const answers = (node: RaftNode) => ofType(drain(node), "AppendEntriesResponse");

test("entries at or below the log's start are taken as matching: the rest is appended, and the whole message acknowledged", () => {
  const { node } = compactedFollower();
  node.step(appendFrom2(5, [6, 7, 8, 9, 10, 11, 12].map(entry)));
  assert.deepEqual(answers(node).map((a) => [a.success, a.matchIndex]), [[true, 12]]);
  const longer = [...Array.from({ length: 15 }, (_, i) => entry(i + 6)), { ...entry(21), term: 4 }, { ...entry(22), term: 4 }];
  node.step(appendFrom2(5, longer));
  assert.deepEqual(answers(node).map((a) => [a.success, a.matchIndex]), [[true, 22]]);
  assert.equal(node.status().lastLogIndex, 22);
  assert.equal(node.status().logStartIndex, 10);
  node.checkInvariants();
});

test("an AppendEntries wholly below the log's start, a heartbeat too, is acknowledged as far as it reaches", () => {
  const { node } = compactedFollower();
  node.step(appendFrom2(3, [4, 5, 6].map(entry)));
  node.step(appendFrom2(7, []));
  assert.deepEqual(answers(node).map((a) => [a.success, a.matchIndex]), [[true, 6], [true, 7]], "no more than the message covers");
  assert.equal(node.status().lastLogIndex, 20, "the log is untouched");
});

test("an AppendEntries whose entry at the log's start has another term is dropped and logged: no honest leader sends it", () => {
  const { node, logger } = compactedFollower();
  node.step(appendFrom2(8, [entry(9), { ...entry(10), term: 3 }, { ...entry(11), term: 3 }]));
  assert.deepEqual(answers(node), [], "no answer");
  assert.ok(logger.has("warn", "dropped AppendEntries from server 2: its entry at the log's start conflicts with the committed one"), JSON.stringify(logger.records));
  assert.equal(node.logEntry(11)?.term, 3, "the log is untouched");
});

// ---- InstallSnapshot at the follower (dissertation §5.1, Figure 5.3) ----

/**
 * Server 1 of 3 in term 4 with an empty log, whose state machine accepts
 * only images whose first state chunk is [1, 2]; it is given the state
 * chunks only, the core's chunk (the configuration) is the core's to check.
 */
function emptyFollower() {
  const logger = new RecordingLogger();
  const node = new RaftNode({
    config: { ...raftConfigDefaults, id: 1, peers: [1, 2, 3] },
    hardState: { currentTerm: 4, votedFor: null, commitIndex: 0 },
    entries: [],
    snapshotProblem: (stateChunks) => (stateChunks[0]?.[0] === 1 && stateChunks[0][1] === 2 ? null : "not an image of this state machine"),
    nowMs: 0,
    random: new SeededRandom(1),
    logger,
  });
  return { node, logger };
}

/** The leader's configuration at the snapshot's index: server 4 joined as a voter before entry 30. */
const leaderMembership: Membership = { voters: [1, 2, 3, 4], learners: [5], context: "endpoints" };
/** The image as the leader's storage holds it (dissertation §5.1): the configuration first, then the state machine's chunks. */
const sentImage = [...snapshotImage(leaderMembership, image)];

const chunkFrom2 = (chunk: number, data: Uint8Array, last: boolean) =>
  ({ type: "InstallSnapshot", term: 4, from: 2, to: 1, snapshot: { index: 30, term: 4 }, chunk, last, data }) as const;

test("a follower gathers a snapshot's chunks in order, asks for the one it wants, and installs the whole image once checked", () => {
  const { node } = emptyFollower();
  const [core, first, last] = sentImage as [Uint8Array, Uint8Array, Uint8Array];
  node.step(chunkFrom2(1, first, false));
  node.step(chunkFrom2(0, core, false));
  node.step(chunkFrom2(0, core, false));
  node.step(chunkFrom2(1, first, false));
  assert.deepEqual(ofType(drain(node), "InstallSnapshotResponse").map((a) => [a.nextChunk, a.done]), [[0, false], [1, false], [1, false], [2, false]]);
  node.step(chunkFrom2(2, last, true));
  const ready = node.ready();
  assert.deepEqual(ready.snapshot, { meta: { index: 30, term: 4 }, chunks: sentImage }, "the runtime gets the image to store, and restores from its state chunks");
  assert.deepEqual(ofType(ready.messages, "InstallSnapshotResponse").map((a) => [a.nextChunk, a.done]), [[0, true]]);
  node.advance(ready);
  const status = node.status();
  assert.deepEqual([status.logStartIndex, status.snapshotIndex, status.lastLogIndex, status.commitIndex, status.lastApplied], [30, 30, 30, 30, 30]);
  assert.deepEqual(node.membership(), leaderMembership, "the snapshot's configuration is in force: the log that held it is gone (§5.1)");
  node.step(chunkFrom2(0, core, false));
  assert.deepEqual(ofType(drain(node), "InstallSnapshotResponse").map((a) => [a.nextChunk, a.done]), [[0, true]], "a late chunk of it: done at once");
  assert.equal(node.hasReady(), false, "and not installed again");
});

test("an image the state machine cannot use, or whose first chunk is no configuration, is dropped unanswered and logged, and the log stays", () => {
  const { node, logger } = emptyFollower();
  node.step(chunkFrom2(0, sentImage[0]!, false));
  node.step(chunkFrom2(1, Uint8Array.of(9), true));
  node.step(chunkFrom2(0, Uint8Array.of(1, 2), true));
  assert.deepEqual(ofType(drain(node), "InstallSnapshotResponse").map((a) => [a.nextChunk, a.done]), [[1, false]], "only the first chunk is answered");
  assert.equal(node.status().logStartIndex, 0);
  assert.deepEqual(node.membership().voters, [1, 2, 3], "the configuration stays");
  assert.ok(logger.has("warn", "dropped InstallSnapshot from server 2: the snapshot at 30 is not a valid image: not an image of this state machine"), JSON.stringify(logger.records));
  assert.ok(logger.has("warn", "dropped InstallSnapshot from server 2: the snapshot at 30 is not a valid image: a configuration entry that is not JSON"), JSON.stringify(logger.records));
});
