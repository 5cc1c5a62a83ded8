import { AssertionError } from "node:assert";
import type { LogIndex, NodeId, Term } from "../../src/raft/index.ts";
import { sameEntry } from "./checkers.ts";
import { clientCommand } from "./sim-client.ts";
import type { SimCluster } from "./sim-cluster.ts";

/**
 * Steps that scripted scenarios share. A step that fails throws an
 * AssertionError that shows every node's state and the end of the trace.
 */

/** Fails the scenario with `what`, the servers' state and the last trace lines. */
export function failScenario(cluster: SimCluster, what: string): never {
  throw new AssertionError({
    message: [what, ...cluster.describeServers(), "--- the last 60 trace lines ---", ...cluster.trace.tail(60)].join("\n"),
  });
}

export function expectThat(cluster: SimCluster, condition: boolean, what: string): void {
  if (!condition) failScenario(cluster, what);
}

/** Runs until `done()` holds, failing with `what` after `withinMs` of virtual time. */
export function awaitThat(cluster: SimCluster, what: string, done: () => boolean, withinMs = 5000): void {
  if (!cluster.runUntil(done, withinMs)) failScenario(cluster, `${what}: not within ${withinMs} virtual ms`);
}

/**
 * Runs until one of `among` (every node by default) leads a term that every
 * running node of `among` has reached, and returns it.
 */
export function awaitLeader(cluster: SimCluster, among: readonly NodeId[] = cluster.ids, withinMs = 5000): NodeId {
  let leader: NodeId | null = null;
  awaitThat(
    cluster,
    `a leader among nodes ${among.join(",")}`,
    () => {
      const up = among.filter((id) => cluster.isUp(id));
      const statuses = up.map((id) => cluster.status(id)!);
      const newest = Math.max(...statuses.map((status) => status.term));
      leader = statuses.find((status) => status.role === "leader" && status.term === newest)?.id ?? null;
      return leader !== null;
    },
    withinMs,
  );
  return leader!;
}

let commandNumber = 0;

/** A command no other call returns. */
export function uniqueCommand(): Uint8Array {
  commandNumber++;
  return clientCommand("scenario", commandNumber);
}

/** Proposes a fresh command at `leader`, which must accept it. */
export function proposeAt(cluster: SimCluster, leader: NodeId, data: Uint8Array = uniqueCommand()): { index: LogIndex; term: Term } {
  const result = cluster.propose(leader, data);
  if (!result.ok) failScenario(cluster, `node ${leader} refused a proposal (leader hint ${result.leaderId ?? "none"})`);
  return { index: result.index, term: result.term };
}

/** Runs until every node of `ids` has committed `index`. */
export function awaitCommitted(cluster: SimCluster, ids: readonly NodeId[], index: LogIndex, withinMs = 5000): void {
  awaitThat(cluster, `nodes ${ids.join(",")} commit index ${index}`, () => ids.every((id) => (cluster.status(id)?.commitIndex ?? 0) >= index), withinMs);
}

/**
 * Every running node of `ids` holds the same log: the same last index, and
 * the same entries after the latest of their logs' starts (what lies before
 * a log's start is compacted into its snapshot, dissertation ch. 5).
 */
export function expectSameLogs(cluster: SimCluster, ids: readonly NodeId[]): void {
  const nodes = ids.map((id) => cluster.node(id) ?? failScenario(cluster, `node ${id} is down`));
  const statuses = nodes.map((node) => node.status());
  const from = Math.max(...statuses.map((status) => status.logStartIndex)) + 1;
  const last = statuses[0]!.lastLogIndex;
  nodes.forEach((node, n) => {
    let same = statuses[n]!.lastLogIndex === last;
    for (let index = from; same && index <= last; index++) same = sameEntry(node.logEntry(index)!, nodes[0]!.logEntry(index)!);
    expectThat(cluster, same, `nodes ${ids[0]} and ${ids[n]} hold different logs`);
  });
}

/** Proposes `count` commands at `leader` and waits until `ids` have applied them; returns the last one's index. */
export function writeApplied(cluster: SimCluster, leader: NodeId, count: number, ids: readonly NodeId[]): LogIndex {
  let last = 0;
  for (let i = 0; i < count; i++) last = proposeAt(cluster, leader).index;
  awaitCommitted(cluster, ids, last);
  awaitThat(cluster, `nodes ${ids.join(",")} apply up to ${last}`, () => ids.every((id) => cluster.lastApplied(id) >= last));
  return last;
}

/** Proposes a command at whichever node leads every `everyMs` (a refusal is passed over) until the returned function is called. */
export function keepWriting(cluster: SimCluster, everyMs: number): () => void {
  let writing = true;
  const write = (): void => {
    if (!writing) return;
    const leader = cluster.leader();
    if (leader !== null) cluster.propose(leader, uniqueCommand());
    cluster.schedule(everyMs, write);
  };
  cluster.schedule(everyMs, write);
  return () => {
    writing = false;
  };
}

/**
 * Waits until the leader committed its whole log and every node of `ids`
 * (every node by default; the members of the configuration in force where a
 * change removed some) applied it, then checks that they agree.
 */
export function expectConverged(cluster: SimCluster, ids: readonly NodeId[] = cluster.ids): void {
  awaitThat(cluster, `nodes ${ids.join(",")} apply all the leader's log`, () => {
    const leader = cluster.leader();
    const status = leader === null ? null : cluster.status(leader)!;
    return status !== null && status.commitIndex === status.lastLogIndex && ids.every((id) => cluster.lastApplied(id) === status.commitIndex);
  });
  expectSameLogs(cluster, ids);
  cluster.checkStateMachinesAgree(ids);
}
