/**
 * The cluster a failover tool works on, whether it started it (a local
 * cluster in a temp directory) or attached to a running one (--config):
 * statuses, signals by server, restarts, and clean-up. And the two waits
 * every round needs: a settled leader, and a server caught up with it.
 */
import { ZraftClient, type StatusReply, type ZraftClientOptions } from "../client/zraft-client.ts";
import type { ClusterConfig } from "../config/cluster-config.ts";
import { waitFor } from "../local-cluster/index.ts";
import type { CurveClientKeys } from "../net/curve-security.ts";

/** The forwarders of a cluster the tool started, which it can kill and start again. */
export interface ForwarderControl {
  readonly count: number;
  /** SIGKILL forwarder `index` and wait until it has gone. */
  kill(index: number): Promise<void>;
  /** Start it again and wait until every server subscribes through it. */
  restart(index: number): Promise<void>;
}

export interface ClusterTarget {
  readonly config: ClusterConfig;
  readonly serverIds: readonly number[];
  /** The client keys, for a cluster with CURVE. */
  readonly curve: CurveClientKeys | undefined;
  /** One line for the start of a run. */
  readonly description: string;
  /** A client of this cluster, closed by `cleanup`. */
  client(options: Partial<Omit<ZraftClientOptions, "config" | "curve">>): ZraftClient;
  /** Server `id`'s status, or undefined if it does not answer in time. */
  status(id: number, timeoutMs?: number): Promise<StatusReply | undefined>;
  /** SIGKILL server `id` (whose process is `pid`) and wait until it has gone. */
  kill(id: number, pid: number): Promise<void>;
  /** SIGSTOP or SIGCONT server `id`; a stopped server is continued by `cleanup` at the latest. */
  pause(id: number, pid: number): void;
  resume(id: number): void;
  /** Starts killed server `id` again and waits until it answers. */
  restart(id: number): Promise<void>;
  /** Absent for a cluster the tool attached to: it did not start the forwarders. */
  readonly forwarders?: ForwarderControl;
  /** Ends what this tool started, continues what it paused. Idempotent. */
  cleanup(options?: { readonly keepDir?: boolean }): Promise<void>;
}

/**
 * A leader that says so in the highest term any server reports, and that
 * a majority of the configured servers (it included) name in that term.
 */
export function settledLeader(statuses: readonly StatusReply[], serverCount: number): StatusReply | undefined {
  const majority = Math.floor(serverCount / 2) + 1;
  const topTerm = Math.max(...statuses.map((status) => status.term));
  const leader = statuses.find((status) => status.role === "leader" && status.term === topTerm);
  if (leader === undefined) return undefined;
  const naming = statuses.filter((status) => status.term === leader.term && (status.leaderId === leader.id || status.id === leader.id));
  return naming.length >= majority ? leader : undefined;
}

/** Every server's status that answers within `timeoutMs`. */
export async function allStatuses(target: ClusterTarget, timeoutMs = 300): Promise<StatusReply[]> {
  const answers = await Promise.all(target.serverIds.map((id) => target.status(id, timeoutMs)));
  return answers.filter((answer): answer is StatusReply => answer !== undefined);
}

/** Waits for a settled leader (see settledLeader). */
export async function findSettledLeader(target: ClusterTarget, timeoutMs = 30_000): Promise<StatusReply> {
  return waitFor(async () => settledLeader(await allStatuses(target), target.serverIds.length), {
    timeoutMs,
    intervalMs: 20,
    what: "a leader acknowledged by a majority",
  });
}

/**
 * Waits until server `id` has applied everything the leader had committed
 * when the wait began (the leader's log is the reference after a
 * crash: Raft paper §5.3, §5.4); returns how long it took.
 */
export async function waitUntilCaughtUp(target: ClusterTarget, id: number, timeoutMs = 60_000): Promise<number> {
  const startMs = performance.now();
  const leader = await findSettledLeader(target, timeoutMs);
  await waitFor(
    async () => {
      const status = await target.status(id, 500);
      return status !== undefined && status.lastApplied >= leader.commitIndex;
    },
    { timeoutMs, intervalMs: 20, what: `server ${id} to apply up to the leader's commit index ${leader.commitIndex}` },
  );
  return performance.now() - startMs;
}
