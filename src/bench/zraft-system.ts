/**
 * zraft behind the `KvSystem` interface: a cluster the bench starts (src/
 * local-cluster, through the failover tools' LocalTarget) or a running one
 * it attaches to with --config (AttachedTarget). Its processes are the
 * local cluster's children, or, attached, the pids the servers report in
 * their status replies (the forwarder's pid is not reported: attached runs
 * measure the servers only).
 */
import { SocketLimitError } from "../client/lazy-pirate-socket.ts";
import type { ZraftClient } from "../client/zraft-client.ts";
import { waitFor } from "../local-cluster/index.ts";
import { ZraftError } from "../protocol/errors.ts";
import { AttachedTarget } from "../failover/attached-target.ts";
import { LocalTarget } from "../failover/local-target.ts";
import type { ClusterTarget } from "../failover/cluster-target.ts";
import type { KvSystem, KvTarget } from "./kv-target.ts";
import type { WatchedProcess } from "./process-sampler.ts";
import { electionTimeoutRange, type RaftTiming } from "./bench-options.ts";

/**
 * A server answers every write and linearizable read within 3 s, with
 * TIMEOUT at worst (docs/protocol.md §5), so each attempt waits longer than
 * that: the step then measures the cluster's answers, and a client gives up
 * on a server only when it is gone (or hung). Waiting 2 s, as it once did,
 * 1000 clients gave up on 864 requests the leader was still working on and
 * sent each again, adding load where there was too much.
 */
const clientOptions = { requestTimeoutMs: 4_000, deadlineMs: 20_000 } as const;

class ZraftConnection implements KvTarget {
  readonly hidden: Record<string, number> = {};

  constructor(readonly client: ZraftClient) {
    const count = (cause: string): void => {
      this.hidden[cause] = (this.hidden[cause] ?? 0) + 1;
    };
    client.on("retry", (event) => count(`retry after ${event.reason}`));
    client.on("failover", (event) => count(`failover (${event.reason})`));
  }

  async put(key: string, value: string): Promise<void> {
    await this.client.put(key, value);
  }

  async get(key: string, options: { readonly stale: boolean }): Promise<string | null> {
    const reply = await this.client.get(key, options.stale ? { stale: true } : {});
    return reply.found ? String(reply.value) : null;
  }

  async cas(key: string, expected: string | null, value: string): Promise<boolean> {
    return (await this.client.cas(key, expected, value)).swapped;
  }

  close(): void {
    this.client.close();
  }
}

export class ZraftSystem implements KvSystem {
  readonly name = "zraft";

  private constructor(readonly target: ClusterTarget) {}

  /** Attaches to the cluster of `configPath`, which keeps its own timing, or starts a fresh local one with `timing`. */
  static async open(configPath: string | undefined, timing: RaftTiming): Promise<ZraftSystem> {
    if (configPath !== undefined) return new ZraftSystem(new AttachedTarget(configPath, process.env.ZRAFT_CLIENT_KEY));
    return new ZraftSystem(await LocalTarget.start(electionTimeoutRange(timing), timing.heartbeatMs));
  }

  get description(): string {
    return this.target.description;
  }

  connect(): KvTarget {
    return new ZraftConnection(this.target.client(clientOptions));
  }

  async processes(): Promise<WatchedProcess[]> {
    if (this.target instanceof LocalTarget) {
      const { cluster } = this.target;
      const names = [...cluster.config.forwarders.map((_, index) => `forwarder-${index}`), ...cluster.serverIds.map((id) => `server-${id}`)];
      return names.flatMap((name) => {
        const pid = cluster.process(name)?.child.pid;
        return pid === undefined ? [] : [{ name, pid }];
      });
    }
    const statuses = await Promise.all(this.target.serverIds.map((id) => this.target.status(id, 1_000)));
    return statuses.flatMap((status) => (status === undefined ? [] : [{ name: `server-${status.id}`, pid: status.pid }]));
  }

  /** Waits until every server has applied everything the leader has committed. */
  async settle(): Promise<void> {
    await waitFor(
      async () => {
        const statuses = await Promise.all(this.target.serverIds.map((id) => this.target.status(id, 1_000)));
        const leader = statuses.find((status) => status?.role === "leader");
        return leader !== undefined && statuses.every((status) => status !== undefined && status.lastApplied >= leader.commitIndex);
      },
      { timeoutMs: 60_000, intervalMs: 100, what: "every server to apply what the leader committed" },
    );
  }

  errorCode(error: unknown): string {
    if (error instanceof SocketLimitError) throw error;
    if (error instanceof ZraftError) return error.code;
    return error instanceof Error ? error.name : "unknown";
  }

  async cleanup(options: { readonly keepDir?: boolean } = {}): Promise<void> {
    await this.target.cleanup(options);
  }

  /** Where the cluster's folder is, when the bench started it. */
  get clusterDir(): string | undefined {
    return this.target instanceof LocalTarget ? this.target.cluster.dir : undefined;
  }
}
