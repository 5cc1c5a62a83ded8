/**
 * The bounded in-memory log (docs/architecture.md §2): a node holds only a
 * tail of its log and reads older entries from its storage. On the
 * simulator, with the checkers after every event: a follower further behind
 * than the leader's tail catches up from the leader's storage (§5.3), and a
 * restarted node whose log is longer than the tail replays it in bounded
 * chunks to the same state as the others.
 */
import { test } from "node:test";
import { RaftNode, type LogStorage, type NodeId, type RaftNodeOptions } from "../../src/raft/index.ts";
import { awaitCommitted, awaitLeader, awaitThat, expectSameLogs, expectThat, proposeAt } from "./scenario-steps.ts";
import { SimCluster } from "./sim-cluster.ts";

/** Two or three entries of a scenario command (entryBytes: its data and 24 bytes). */
const tailBytesMax = 250;
const commands = 300;

/** Reads from storage, per server, since the counts were last cleared. */
interface StorageReads {
  entries: number;
  terms: number;
  /** The lowest index an entries read started at. */
  lowestFrom: number;
}

/**
 * A cluster whose nodes keep a tiny tail and count what they read from
 * storage; `started` records the tail each node was given at each start.
 */
function countingCluster(seed: number, entriesPerReadyMax = 4096) {
  const reads = new Map<NodeId, StorageReads>();
  const started: { id: NodeId; tailLength: number; lastIndex: number; commitIndex: number }[] = [];
  const counting = (id: NodeId, storage: LogStorage): LogStorage => {
    const count = reads.get(id) ?? { entries: 0, terms: 0, lowestFrom: Number.POSITIVE_INFINITY };
    reads.set(id, count);
    return {
      term: (index) => {
        count.terms++;
        return storage.term(index);
      },
      entries: (from, to, bytesMax) => {
        count.entries++;
        count.lowestFrom = Math.min(count.lowestFrom, from);
        return storage.entries(from, to, bytesMax);
      },
      snapshotChunk: (snapshot, chunk) => storage.snapshotChunk(snapshot, chunk),
    };
  };
  const createNode = (options: RaftNodeOptions): RaftNode => {
    const id = options.config.id;
    started.push({ id, tailLength: options.entries.length, lastIndex: options.entries.at(-1)?.index ?? 0, commitIndex: options.hardState.commitIndex });
    return new RaftNode({ ...options, storage: counting(id, options.storage!) });
  };
  const cluster = new SimCluster({ seed, size: 3, raft: { logTailBytesMax: tailBytesMax, entriesPerReadyMax }, createNode });
  return { cluster, reads: (id: NodeId): StorageReads => reads.get(id)!, started };
}

function proposeMany(cluster: SimCluster, leader: NodeId, count: number): number {
  let last = 0;
  for (let i = 0; i < count; i++) {
    last = proposeAt(cluster, leader).index;
    if (i % 20 === 19) cluster.runFor(5);
  }
  return last;
}

// §5.3: the leader brings a follower's log up to date by sending it the entries it misses, from nextIndex on.
test("a follower further behind than the leader's tail catches up from the leader's storage", () => {
  const { cluster, reads } = countingCluster(11);
  const leader = awaitLeader(cluster);
  const follower = cluster.ids.find((id) => id !== leader)!;
  // Its volatile log may run ahead of its disk, so what it lacks after the restart starts at or below this.
  const missingFrom = cluster.status(follower)!.lastLogIndex + 1;
  cluster.crash(follower);
  reads(leader).lowestFrom = Number.POSITIVE_INFINITY;
  const last = proposeMany(cluster, leader, commands);
  const up = cluster.ids.filter((id) => id !== follower);
  awaitCommitted(cluster, up, last);

  cluster.restart(follower);
  awaitCommitted(cluster, cluster.ids, last, 10_000);
  awaitThat(cluster, "every node applies the whole log", () => cluster.ids.every((id) => cluster.lastApplied(id) === last));
  // Since the crash, whether before the restart (a probe still on its way) or after: what the follower missed came from storage.
  expectThat(cluster, reads(leader).lowestFrom <= missingFrom, "the leader read the entries it sent from storage");
  expectSameLogs(cluster, cluster.ids);
  cluster.checkStateMachinesAgree();
});

test("a restart with a log longer than the tail loads only the tail and replays the rest from storage, in chunks", () => {
  const { cluster, reads, started } = countingCluster(12, 7);
  const leader = awaitLeader(cluster);
  const last = proposeMany(cluster, leader, commands);
  awaitThat(cluster, "every node applies the whole log", () => cluster.ids.every((id) => cluster.lastApplied(id) === last));
  const restarted = cluster.ids.find((id) => id !== leader)!;
  cluster.crash(restarted);
  const before = { ...reads(restarted) };

  cluster.restart(restarted);
  const start = started.at(-1)!;
  expectThat(cluster, start.id === restarted && start.lastIndex === last, "the restarted node was given the end of its log");
  expectThat(cluster, start.tailLength < 20 && start.commitIndex > start.tailLength, `it was given a tail of ${start.tailLength} entries, not the whole log`);
  awaitThat(cluster, "the restarted node applies the whole log again", () => cluster.lastApplied(restarted) === last);
  // With 7 committed entries per Ready, the replay takes many reads of at most 7 entries each.
  expectThat(cluster, reads(restarted).entries - before.entries >= Math.floor((last - start.tailLength) / 7), "the replay read the log in chunks");
  expectSameLogs(cluster, cluster.ids);
  cluster.checkStateMachinesAgree();
});
