/**
 * Log compaction and InstallSnapshot (Raft dissertation ch. 5) in named
 * scenarios on the simulator, with the safety checkers after every event: a
 * follower the leader compacted past catches up from the leader's snapshot
 * (§5.1), chunk by chunk, through lost chunks, crashes on either side,
 * leader changes and newer snapshots; a restart restores the stored snapshot
 * and replays the log after it.
 */
import { test } from "node:test";
import { sameMeta, type InstallSnapshot, type NodeId, type SnapshotMeta } from "../../src/raft/index.ts";
import { awaitCommitted, awaitLeader, awaitThat, expectConverged, expectThat, failScenario, keepWriting, proposeAt, writeApplied } from "./scenario-steps.ts";
import { SimCluster } from "./sim-cluster.ts";
import type { MessageFate } from "./trace.ts";

/** The snapshots each server installed from a leader (Ready.snapshot), in order. */
function recordInstalls(cluster: SimCluster): Map<NodeId, SnapshotMeta[]> {
  const installs = new Map<NodeId, SnapshotMeta[]>();
  cluster.observeReady((id, ready) => {
    if (ready.snapshot !== null) installs.set(id, [...(installs.get(id) ?? []), ready.snapshot.meta]);
  });
  return installs;
}

/** The chunks the follower `to` asked for (InstallSnapshotResponse.nextChunk of its answers that are not done). */
function recordAsked(cluster: SimCluster, to: NodeId): number[] {
  const asked: number[] = [];
  cluster.network.observe((message) => {
    if (message.type === "InstallSnapshotResponse" && message.from === to && !message.done) asked.push(message.nextChunk);
  });
  return asked;
}

/** The InstallSnapshot chunks to `to` the trace holds, oldest first, each with what became of it. */
function chunksInTrace(cluster: SimCluster, to: NodeId): { readonly message: InstallSnapshot; readonly fate: MessageFate }[] {
  const chunks: { message: InstallSnapshot; fate: MessageFate }[] = [];
  for (const record of cluster.trace.last()) {
    if (record.kind === "message" && record.message.type === "InstallSnapshot" && record.message.to === to) chunks.push({ message: record.message, fate: record.fate });
  }
  return chunks;
}

/**
 * A cluster of `size` in which one follower, `behind`, was cut off while the
 * leader committed 30 entries and every other server snapshotted them (in
 * `chunks` chunks) and compacted its whole log: `behind` can only catch up
 * by InstallSnapshot (§5.1). The partition is still up.
 */
function followerLeftBehind(seed: number, { size = 3, chunks }: { readonly size?: number; readonly chunks: number }) {
  const cluster = new SimCluster({ seed, size });
  const leader = awaitLeader(cluster);
  const behind = cluster.ids.find((id) => id !== leader)!;
  cluster.network.partition([[behind]]);
  const others = cluster.ids.filter((id) => id !== behind);
  const last = writeApplied(cluster, leader, 30, others);
  const snapshots = new Map(others.map((id) => [id, cluster.takeSnapshot(id, { chunks }) ?? failScenario(cluster, `node ${id} took no snapshot`)]));
  expectThat(cluster, cluster.status(leader)!.logStartIndex === last, `the leader's log starts after ${last}, past all the follower holds`);
  return { cluster, leader, behind, others, snapshot: snapshots.get(leader)!, snapshots };
}

// §5.1: a follower that needs entries the leader compacted away gets the leader's snapshot, then the log after it.
test("a follower cut off while the leader compacts past it catches up by snapshot while writes continue", () => {
  const { cluster, behind, snapshot } = followerLeftBehind(21, { chunks: 3 });
  const installs = recordInstalls(cluster);
  const stopWriting = keepWriting(cluster, 15);
  cluster.network.heal();
  awaitThat(cluster, "the follower installs the leader's snapshot", () => installs.has(behind));
  expectThat(cluster, installs.get(behind)!.every((meta) => sameMeta(meta, snapshot)), "it installed the leader's snapshot, once");
  expectThat(cluster, cluster.status(behind)!.logStartIndex === snapshot.index, "its log now starts after the snapshot");
  cluster.runFor(500);
  stopWriting();
  expectThat(cluster, cluster.status(behind)!.lastLogIndex > snapshot.index + 10, "it took the entries written meanwhile by AppendEntries");
  expectConverged(cluster);
});

// §5.1 (chunks): the follower says which chunk it wants; a lost one is sent again after a stall, and the transfer goes on from it.
test("a lost chunk is sent again, and the transfer resumes from it, not from the first chunk", () => {
  const { cluster, behind, snapshot } = followerLeftBehind(22, { chunks: 5 });
  const installs = recordInstalls(cluster);
  let lost = false;
  cluster.network.dropWhen((message) => {
    if (lost || message.type !== "InstallSnapshot" || message.to !== behind || message.chunk !== 2) return false;
    lost = true;
    return true;
  });
  cluster.network.heal();
  awaitThat(cluster, "the follower installs the leader's snapshot", () => installs.has(behind));
  const chunks = chunksInTrace(cluster, behind);
  const lostAt = chunks.findIndex(({ message, fate }) => message.chunk === 2 && fate === "dropped by script");
  expectThat(cluster, lostAt >= 0, "the trace shows chunk 2 lost");
  const after = chunks.slice(lostAt + 1).map(({ message, fate }) => `${message.chunk} ${fate}`);
  // Five state chunks after the core's (the configuration, chunk 0): six in all.
  expectThat(cluster, after.join(", ") === "2 delivered, 3 delivered, 4 delivered, 5 delivered", `after the loss: chunks ${after.join(", ")}; expected 2 to 5, chunk 0 not again`);
  expectThat(cluster, chunks.every(({ message }) => sameMeta(message.snapshot, snapshot)), "every chunk is of the leader's snapshot");
  expectConverged(cluster);
});

// §5.1: a follower that crashes mid-transfer loses the chunks it gathered (they are not stored); it asks for the first again.
test("a follower that crashes in the middle of a transfer gets the snapshot from its first chunk after its restart", () => {
  const { cluster, behind, snapshot } = followerLeftBehind(23, { chunks: 5 });
  const installs = recordInstalls(cluster);
  const asked = recordAsked(cluster, behind);
  cluster.network.heal();
  awaitThat(cluster, "the follower asks for chunk 3", () => asked.includes(3));
  cluster.crash(behind);
  cluster.runFor(200);
  const askedBefore = asked.length;
  cluster.restart(behind);
  awaitThat(cluster, "the restarted follower installs the leader's snapshot", () => installs.has(behind));
  const askedAfter = asked.slice(askedBefore);
  expectThat(cluster, askedAfter[0] === 0, `after its restart it first asked for chunk 0 (it asked for ${askedAfter.join(", ")})`);
  expectThat(cluster, sameMeta(installs.get(behind)![0]!, snapshot), "it installed the leader's snapshot");
  expectConverged(cluster);
});

// Ready order (src/raft/ready.ts): a snapshot is stored before the state machine is restored from it and before the
// leader hears of it. A crash in between leaves it on disk: the restart restores the state machine from it.
test("a follower that crashes right after storing an installed snapshot restores it at its restart", () => {
  const { cluster, leader, behind, snapshot } = followerLeftBehind(24, { chunks: 2 });
  let crashed = false;
  cluster.crashAt = (id, point) => {
    if (id !== behind || point !== "after-install-save" || crashed) return false;
    crashed = true;
    return true;
  };
  cluster.network.heal();
  awaitThat(cluster, "the follower crashes right after storing the snapshot", () => crashed);
  cluster.crashAt = null;
  const disk = cluster.durableLog(behind);
  expectThat(cluster, disk.start.index === snapshot.index && disk.snapshot !== null && sameMeta(disk.snapshot.meta, snapshot), "its disk holds the snapshot in place of its log");
  const restoredBefore = cluster.snapshotStats.restoredAtStart;
  cluster.restart(behind);
  expectThat(cluster, cluster.snapshotStats.restoredAtStart === restoredBefore + 1, "the restart restored the stored snapshot");
  expectThat(cluster, cluster.lastApplied(behind) >= snapshot.index, `its state machine starts at ${cluster.lastApplied(behind)}, not before the snapshot`);
  awaitCommitted(cluster, [behind], proposeAt(cluster, leader).index);
  expectConverged(cluster);
});

// §5.1: a transfer belongs to one leader; the next one sends its own snapshot from the first chunk (chunks of two
// leaders' images never mix, even where the images end at one index).
test("a leader change in the middle of a transfer: the new leader sends its own snapshot from the start", () => {
  const { cluster, leader, behind, others, snapshots } = followerLeftBehind(25, { size: 5, chunks: 5 });
  const installs = recordInstalls(cluster);
  const asked = recordAsked(cluster, behind);
  cluster.network.heal();
  awaitThat(cluster, "the follower asks the first leader for chunk 2", () => asked.includes(2));
  cluster.crash(leader);
  const next = awaitLeader(cluster, others.filter((id) => id !== leader));
  awaitThat(cluster, "the follower installs a snapshot", () => installs.has(behind));
  const fromNext = chunksInTrace(cluster, behind).filter(({ message, fate }) => message.from === next && fate === "delivered");
  expectThat(cluster, fromNext[0]?.message.chunk === 0, `the new leader's transfer began with chunk 0 (it sent ${fromNext.map(({ message }) => message.chunk).join(", ")})`);
  expectThat(cluster, sameMeta(installs.get(behind)!.at(-1)!, snapshots.get(next)!), "the follower installed the new leader's snapshot");
  cluster.restart(leader);
  expectConverged(cluster);
});

// Dissertation ch. 5: a leader keeps one snapshot; once a newer one replaces it mid-transfer, the old one's chunks are
// gone, and the transfer starts over with the newer one.
test("a leader that takes a newer snapshot in the middle of a transfer starts the transfer over with it", () => {
  const { cluster, leader, behind, others, snapshot: first } = followerLeftBehind(26, { chunks: 5 });
  const installs = recordInstalls(cluster);
  const asked = recordAsked(cluster, behind);
  cluster.network.heal();
  awaitThat(cluster, "the follower asks for chunk 2 of the first snapshot", () => asked.includes(2));
  // Its answers are lost meanwhile, so that the first transfer is still under way when the newer snapshot is taken.
  const stopDropping = cluster.network.dropWhen((message) => message.type === "InstallSnapshotResponse" && message.from === behind);
  writeApplied(cluster, leader, 5, others);
  const second = cluster.takeSnapshot(leader, { chunks: 3 }) ?? failScenario(cluster, "the leader took no newer snapshot");
  stopDropping();
  awaitThat(cluster, "the follower installs a snapshot", () => installs.has(behind));
  expectThat(cluster, installs.get(behind)!.length === 1 && sameMeta(installs.get(behind)![0]!, second), "it installed the newer snapshot only");
  const chunks = chunksInTrace(cluster, behind);
  const newer = chunks.findIndex(({ message }) => sameMeta(message.snapshot, second));
  expectThat(cluster, newer >= 0 && chunks[newer]!.message.chunk === 0, "the newer snapshot's transfer began with chunk 0");
  expectThat(cluster, chunks.slice(newer).every(({ message }) => sameMeta(message.snapshot, second)), "no chunk of the first snapshot left after it");
  expectThat(cluster, !sameMeta(first, second), "the two snapshots differ");
  expectConverged(cluster);
});

// Dissertation §5.1: a server restarts from its stored snapshot and the log after it; what lies below its log's start
// it never reads again. A margin kept below the snapshot (§5.1.3's followers only a little behind) stays in the log.
test("a restart restores the stored snapshot, then applies the log after it", () => {
  const cluster = new SimCluster({ seed: 27, size: 3 });
  const leader = awaitLeader(cluster);
  const snapshotAt = writeApplied(cluster, leader, 20, cluster.ids);
  for (const id of cluster.ids) cluster.takeSnapshot(id, { marginEntries: 5, chunks: 2 });
  const last = writeApplied(cluster, leader, 10, cluster.ids);
  for (const id of cluster.ids) cluster.crash(id);
  cluster.runFor(300);
  for (const id of cluster.ids) {
    cluster.restart(id);
    const status = cluster.status(id)!;
    expectThat(cluster, status.snapshotIndex === snapshotAt && status.logStartIndex === snapshotAt - 5, `node ${id} keeps its snapshot at ${snapshotAt} and its log from ${snapshotAt - 4}`);
    expectThat(cluster, cluster.node(id)!.logEntry(snapshotAt - 4) !== undefined, `node ${id} holds the margin below its snapshot`);
    expectThat(cluster, cluster.lastApplied(id) === status.commitIndex && status.commitIndex >= last, `node ${id} restored its snapshot and applied the ${last - snapshotAt} entries after it at once`);
  }
  expectThat(cluster, cluster.snapshotStats.restoredAtStart === cluster.ids.length, "every restart restored a stored snapshot");
  const next = awaitLeader(cluster);
  awaitCommitted(cluster, cluster.ids, proposeAt(cluster, next).index);
  expectConverged(cluster);
});

// Dissertation §5.1: a snapshot is stored before the log is compacted; a crash in between leaves the whole log on
// disk with the snapshot, and the restart applies only what follows the snapshot.
test("a crash between storing a snapshot and compacting the log", () => {
  const cluster = new SimCluster({ seed: 28, size: 3 });
  const leader = awaitLeader(cluster);
  const follower = cluster.ids.find((id) => id !== leader)!;
  const snapshotAt = writeApplied(cluster, leader, 15, cluster.ids);
  cluster.crashAt = (id, point) => id === follower && point === "after-snapshot-save";
  cluster.takeSnapshot(follower, { chunks: 3 });
  cluster.crashAt = null;
  expectThat(cluster, !cluster.isUp(follower), "the follower crashed after storing its snapshot");
  const disk = cluster.durableLog(follower);
  expectThat(cluster, disk.snapshot?.meta.index === snapshotAt && disk.start.index === 0, "its disk holds the snapshot and the whole log");
  cluster.restart(follower);
  const status = cluster.status(follower)!;
  expectThat(cluster, status.snapshotIndex === snapshotAt && status.logStartIndex === 0, "it restarts with the snapshot and the whole log");
  expectThat(cluster, cluster.lastApplied(follower) === status.commitIndex, "it applied what follows the snapshot");
  awaitCommitted(cluster, cluster.ids, proposeAt(cluster, leader).index);
  expectConverged(cluster);
});
