/**
 * A cluster the tool starts itself (src/local-cluster: a forwarder and five
 * servers in a temp directory), with the election timing asked for. Its
 * cleanup kills every process (a paused one too: SIGKILL needs no SIGCONT)
 * and removes the directory.
 */
import type { ZraftClientOptions } from "../client/zraft-client.ts";
import { startLocalCluster, type LocalCluster } from "../local-cluster/index.ts";
import { statusOnce } from "../client/status-once.ts";
import type { ClusterTarget, ForwarderControl } from "./cluster-target.ts";
import { heartbeatFor, type TimeoutRange } from "./timeout-ranges.ts";

export class LocalTarget implements ClusterTarget {
  readonly curve = undefined;
  readonly #paused = new Set<number>();

  private constructor(readonly cluster: LocalCluster) {}

  /** Starts a 5-server cluster with `forwarders` forwarders; with `range`, its election timeout and a heartbeat below it. */
  static async start(range?: TimeoutRange, heartbeatMs?: number, forwarders = 1): Promise<LocalTarget> {
    const timing = range === undefined ? {} : { electionTimeoutMs: range, heartbeatMs: heartbeatMs ?? heartbeatFor(range) };
    return new LocalTarget(await startLocalCluster({ ...timing, forwarders }));
  }

  get forwarders(): ForwarderControl {
    const cluster = this.cluster;
    return {
      count: cluster.config.forwarders.length,
      kill: async (index) => void (await cluster.killForwarder(index)),
      restart: (index) => cluster.restartForwarder(index),
    };
  }

  get config(): LocalCluster["config"] {
    return this.cluster.config;
  }

  get serverIds(): readonly number[] {
    return this.cluster.serverIds;
  }

  get description(): string {
    const { electionTimeoutMs, heartbeatMs, forwarders, servers } = this.config;
    return (
      `${forwarders.length === 1 ? "a forwarder" : `${forwarders.length} forwarders`} and ${servers.length} servers in ${this.cluster.dir}; ` +
      `election timeout ${electionTimeoutMs.join("-")} ms, heartbeat ${heartbeatMs} ms`
    );
  }

  client(options: Partial<Omit<ZraftClientOptions, "config" | "curve">>): ReturnType<LocalCluster["client"]> {
    return this.cluster.client(options);
  }

  status(id: number, timeoutMs = 500): ReturnType<ClusterTarget["status"]> {
    return statusOnce(this.config, undefined, id, timeoutMs);
  }

  async kill(id: number): Promise<void> {
    await this.cluster.kill(id, "SIGKILL");
  }

  pause(id: number): void {
    this.#signal(id, "SIGSTOP");
    this.#paused.add(id);
  }

  resume(id: number): void {
    this.#signal(id, "SIGCONT");
    this.#paused.delete(id);
  }

  async restart(id: number): Promise<void> {
    await this.cluster.restart(id);
  }

  async cleanup(options: { readonly keepDir?: boolean } = {}): Promise<void> {
    for (const id of [...this.#paused]) this.resume(id);
    await this.cluster.cleanup(options);
  }

  /** SIGSTOP and SIGCONT straight to the child: ManagedProcess.kill would wait for an exit. */
  #signal(id: number, signal: "SIGSTOP" | "SIGCONT"): void {
    const server = this.cluster.process(`server-${id}`);
    if (server?.running === true) server.child.kill(signal);
  }
}
