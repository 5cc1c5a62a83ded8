/**
 * etcd behind the `KvSystem` interface, for `npm run bench -- --vs-etcd`:
 * a local five-member cluster (etcd-cluster.ts) driven through etcd's
 * native gRPC API by the `etcd3` package, one client (one gRPC channel
 * to all five members) per closed-loop client. Gets are linearizable,
 * etcd's default, or serializable with --stale; puts are plain puts; a
 * compare-and-set is a transaction comparing the value (or, for an absent
 * key, that its version is 0).
 */
import { execFileSync } from "node:child_process";
import { Etcd3 } from "etcd3";
import { waitFor } from "../local-cluster/index.ts";
import { EtcdCluster } from "./etcd-cluster.ts";
import type { KvSystem, KvTarget } from "./kv-target.ts";
import type { WatchedProcess } from "./process-sampler.ts";
import { electionTimeoutRange, type RaftTiming } from "./bench-options.ts";

/** As zraft's client deadline: a slow reply is a latency, not an error. */
const requestDeadlineMs = 20_000;
const callOptions = (): { deadline: number } => ({ deadline: Date.now() + requestDeadlineMs });

class EtcdConnection implements KvTarget {
  /** etcd3 retries inside gRPC without telling. */
  readonly hidden = {};

  constructor(readonly client: Etcd3) {}

  async put(key: string, value: string): Promise<void> {
    await this.client.put(key).value(value).options(callOptions()).exec();
  }

  async get(key: string, options: { readonly stale: boolean }): Promise<string | null> {
    return await this.client.get(key).serializable(options.stale).options(callOptions()).string();
  }

  async cas(key: string, expected: string | null, value: string): Promise<boolean> {
    const transaction = expected === null ? this.client.if(key, "Version", "==", 0) : this.client.if(key, "Value", "==", expected);
    const result = await transaction.then(this.client.put(key).value(value)).options(callOptions()).commit();
    return result.succeeded;
  }

  close(): void {
    this.client.close();
  }
}

export class EtcdSystem implements KvSystem {
  readonly name = "etcd";
  readonly #connections = new Set<Etcd3>();

  private constructor(
    readonly cluster: EtcdCluster,
    readonly version: string,
  ) {}

  static async start(binary: string, timing: RaftTiming): Promise<EtcdSystem> {
    const version = /etcd Version: (\S+)/.exec(execFileSync(binary, ["--version"], { encoding: "utf8" }))?.[1] ?? "unknown version";
    return new EtcdSystem(await EtcdCluster.start(binary, timing), version);
  }

  get description(): string {
    const { timing } = this.cluster;
    return (
      `etcd ${this.version}: five members (${this.cluster.binary}, fsync on, loopback) in ${this.cluster.dir}; ` +
      `election timeout ${electionTimeoutRange(timing).join("-")} ms, heartbeat ${timing.heartbeatMs} ms; client etcd3 (gRPC)`
    );
  }

  get clusterDir(): string {
    return this.cluster.dir;
  }

  connect(): KvTarget {
    const client = new Etcd3({ hosts: this.cluster.clientUrls });
    this.#connections.add(client);
    return new EtcdConnection(client);
  }

  async processes(): Promise<WatchedProcess[]> {
    return this.cluster.members.flatMap(({ name, child }) => (child.pid === undefined ? [] : [{ name, pid: child.pid }]));
  }

  /** Waits until every member has applied what it has committed and all agree on the commit index. */
  async settle(): Promise<void> {
    const clients = this.cluster.clientUrls.map((url) => new Etcd3({ hosts: url }));
    try {
      await waitFor(
        async () => {
          const statuses = await Promise.all(clients.map((client) => client.maintenance.status(callOptions())));
          const committed = statuses.map((status) => BigInt(status.raftIndex));
          return statuses.every((status, index) => BigInt(status.raftAppliedIndex) >= (committed[index] as bigint)) && new Set(committed).size === 1;
        },
        { timeoutMs: 60_000, intervalMs: 100, what: "every etcd member to apply what is committed" },
      );
    } finally {
      for (const client of clients) client.close();
    }
  }

  /** The etcd3 error's class, "GRPCDeadlineExceededError". */
  errorCode(error: unknown): string {
    return error instanceof Error ? error.constructor.name : "unknown";
  }

  async cleanup(options: { readonly keepDir?: boolean } = {}): Promise<void> {
    for (const client of this.#connections) client.close();
    this.#connections.clear();
    await this.cluster.stop(options);
  }
}
