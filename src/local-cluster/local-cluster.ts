/**
 * A cluster of real forwarder and server processes on this machine, for
 * anything that needs the real thing rather than the simulator: end-to-end
 * tests, benchmarks, fault injection, demos. Each process's output is
 * appended to `<dir>/<process>.log` across restarts.
 *
 * ```ts
 * const cluster = await startLocalCluster();              // forwarder + 5 servers
 * try {
 *   const leader = await cluster.findLeader();
 *   await cluster.kill(leader.id);                        // SIGKILL, waits for the exit
 *   await cluster.client().put("k", "v");                 // the survivors elect a new leader
 * } finally {
 *   await cluster.cleanup();
 * }
 * ```
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { ClusterConfig } from "../config/cluster-config.ts";
import type { CurveKeyPair } from "../config/curve-keys.ts";
import { ZraftClient, type StatusReply, type ZraftClientOptions } from "../client/zraft-client.ts";
import { statusOnce } from "../client/status-once.ts";
import { createClusterDirectory, type ClusterDirectory, type ClusterLayout } from "./cluster-directory.ts";
import { FaultControl } from "./fault-control.ts";
import { ManagedProcess, type ProcessExit } from "./managed-process.ts";
import { freeLoopbackPorts } from "./ports.ts";
import { waitFor, type WaitOptions } from "./wait-for.ts";

export interface LocalClusterOptions extends ClusterLayout {
  /** Extra arguments for every server, e.g. `["--log-level", "debug"]`. */
  readonly serverArgs?: readonly string[];
  /** Environment for every child. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The key pair of the clients this cluster makes (`client()`, `status()`),
   * required when the config has a `curve` section (docs/protocol.md §10);
   * they present it to the servers, with the config's `curve.publicKey` as
   * the servers' key.
   */
  readonly clientKey?: CurveKeyPair;
  /**
   * Testing only: start each forwarder with `--allow-faults` and a control
   * socket on a fresh port, which `faultControl()` talks to (docs/protocol.md §11).
   */
  readonly faultControl?: boolean;
}

export class LocalCluster {
  /** The temp directory of this cluster. */
  readonly dir: string;
  /** Path of the config file every process is given. */
  readonly configPath: string;
  readonly config: ClusterConfig;
  readonly #processes = new Map<string, ManagedProcess>();
  readonly #clients: ZraftClient[] = [];
  /** Each forwarder's control endpoint, kept across its restarts. */
  readonly #controlEndpoints = new Map<number, string>();
  readonly #faultControls: FaultControl[] = [];
  readonly #options: LocalClusterOptions;
  #cleanedUp = false;

  /**
   * A cluster in `directory` (see `createClusterDirectory`), nothing started
   * yet. `createLocalCluster` and `startLocalCluster` make the directory too.
   */
  constructor(directory: ClusterDirectory, options: LocalClusterOptions = {}) {
    this.dir = directory.dir;
    this.configPath = directory.configPath;
    this.config = directory.config;
    this.#options = options;
    if (this.config.curve !== undefined && options.clientKey === undefined) {
      throw new Error("the cluster config has a curve section: give LocalClusterOptions a clientKey for the clients it makes");
    }
  }

  /** The configured server ids. */
  get serverIds(): number[] {
    return this.config.servers.map((server) => server.id);
  }

  /** Whether `cleanup` has been called: nothing can be started any more. */
  get cleanedUp(): boolean {
    return this.#cleanedUp;
  }

  /** Starts forwarder `index` and waits until it has bound its endpoints. */
  async startForwarder(index = 0): Promise<ManagedProcess> {
    const name = `forwarder-${index}`;
    this.#assertNotRunning(name);
    const faultArgs = this.#options.faultControl === true ? ["--allow-faults", "--control", await this.#controlEndpoint(index)] : [];
    // The log is appended across restarts: wait for this start's line, not an earlier one.
    const boundLines = (output: string): number => output.split("publishers connect to").length - 1;
    const boundBefore = boundLines(this.process(name)?.output() ?? "");
    const forwarder = this.#spawn(name, ["forwarder/main.ts", "--config", this.configPath, "--index", String(index), ...faultArgs]);
    await forwarder.waitForOutput(/publishers connect to/, { timeoutMs: 15_000 });
    await waitFor(() => boundLines(forwarder.output()) > boundBefore, { timeoutMs: 15_000, what: `${name} to bind its endpoints` });
    return forwarder;
  }

  /** Sends `signal` (default SIGKILL) to forwarder `index` and waits for it to exit. */
  async killForwarder(index: number, signal: NodeJS.Signals = "SIGKILL"): Promise<ProcessExit> {
    const forwarder = this.process(`forwarder-${index}`);
    if (forwarder === undefined) throw new Error(`forwarder ${index} was never started`);
    return forwarder.kill(signal);
  }

  /**
   * Starts forwarder `index` again (stopping it first if it runs) and waits
   * until every server has subscribed through it again: its report of who is
   * on the bus names them all (it reports once a second).
   */
  async restartForwarder(index: number): Promise<void> {
    const name = `forwarder-${index}`;
    await this.process(name)?.stop();
    const outputBefore = this.process(name)?.output().length ?? 0;
    const forwarder = await this.startForwarder(index);
    const everyone = `${this.serverIds.length} on the bus`;
    await waitFor(() => forwarder.output().slice(outputBefore).includes(everyone), { timeoutMs: 15_000, what: `every server to subscribe through ${name} again` });
  }

  /**
   * Starts server `id` (does not wait: see `waitForServer`) with the
   * cluster's config, or with `configPath`: another file for the same
   * cluster, such as one that lists only the first servers, whose
   * configuration grows by membership changes (docs/protocol.md §2).
   */
  startServer(id: number, extraArgs: readonly string[] = [], configPath = this.configPath): ManagedProcess {
    const name = `server-${id}`;
    this.#assertNotRunning(name);
    if (!this.serverIds.includes(id)) throw new RangeError(`server ${id} is not in the config`);
    return this.#spawn(name, ["src/server/main.ts", "--id", String(id), "--config", configPath, ...(this.#options.serverArgs ?? []), ...extraArgs]);
  }

  /** Starts every forwarder and server, and waits until each server answers `status`. */
  async startAll(): Promise<void> {
    for (let i = 0; i < this.config.forwarders.length; i++) await this.startForwarder(i);
    for (const id of this.serverIds) this.startServer(id);
    await Promise.all(this.serverIds.map((id) => this.waitForServer(id)));
  }

  /** Waits until server `id` answers `status`; returns that status. Fails at once if the server exits. */
  async waitForServer(id: number, options: WaitOptions = {}): Promise<StatusReply> {
    return waitFor(
      () => {
        const server = this.process(`server-${id}`);
        if (server !== undefined && !server.running) throw new Error(`server-${id} exited: ${JSON.stringify(server.exit)}`);
        return this.status(id);
      },
      { timeoutMs: 20_000, what: `server ${id} to answer status`, ...options },
    );
  }

  /** Server `id`'s status, or undefined if it does not answer within `timeoutMs`. */
  async status(id: number, timeoutMs = 500): Promise<StatusReply | undefined> {
    return statusOnce(this.config, this.#clientCurve().curve, id, timeoutMs);
  }

  /** The statuses of every server that answers, by id. */
  async statuses(timeoutMs = 500): Promise<Map<number, StatusReply>> {
    const answers = await Promise.all(this.serverIds.map(async (id) => [id, await this.status(id, timeoutMs)] as const));
    return new Map(answers.filter((answer): answer is readonly [number, StatusReply] => answer[1] !== undefined));
  }

  /**
   * Waits for a settled leader: a server that says it leads, whose term is
   * the highest any server reports, and that a majority of the voters of its
   * configuration (it included) name as leader in that term. Returns its status.
   */
  async findLeader(options: WaitOptions = {}): Promise<StatusReply> {
    return waitFor(
      async () => {
        const statuses = [...(await this.statuses()).values()];
        const topTerm = Math.max(...statuses.map((status) => status.term));
        const leader = statuses.find((status) => status.role === "leader" && status.term === topTerm);
        if (leader === undefined) return undefined;
        const voters = leader.members.filter((member) => member.voter).map((member) => member.id);
        const followers = statuses.filter((status) => status.term === leader.term && status.leaderId === leader.id && voters.includes(status.id));
        return followers.length >= Math.floor(voters.length / 2) + 1 ? leader : undefined;
      },
      { timeoutMs: 15_000, what: "a leader acknowledged by a majority", ...options },
    );
  }

  /** Sends `signal` (default SIGKILL) to server `id` and waits for it to exit. */
  async kill(id: number, signal: NodeJS.Signals = "SIGKILL"): Promise<ProcessExit> {
    const server = this.process(`server-${id}`);
    if (server === undefined) throw new Error(`server ${id} was never started`);
    return server.kill(signal);
  }

  /** Stops server `id` (SIGTERM, SIGKILL after a grace period) if it runs, starts it again, and waits until it answers. */
  async restart(id: number, extraArgs: readonly string[] = []): Promise<StatusReply> {
    await this.process(`server-${id}`)?.stop();
    this.startServer(id, extraArgs);
    return this.waitForServer(id);
  }

  /** The process named `forwarder-<i>` or `server-<id>`, if it was started. */
  process(name: string): ManagedProcess | undefined {
    return this.#processes.get(name);
  }

  /** A ZraftClient for this cluster (fast timeouts by default, as every server is local), closed by cleanup. */
  client(options: Partial<Omit<ZraftClientOptions, "config">> = {}): ZraftClient {
    const client = new ZraftClient({ config: this.config, requestTimeoutMs: 500, deadlineMs: 15_000, ...this.#clientCurve(), ...options });
    this.#clients.push(client);
    return client;
  }

  /** A client of forwarder `index`'s fault control socket (needs `faultControl: true` and a started forwarder), closed by cleanup. */
  faultControl(index = 0): FaultControl {
    const endpoint = this.#controlEndpoints.get(index);
    if (endpoint === undefined) throw new Error(`forwarder-${index} has no control socket: start it with the option faultControl: true`);
    const control = new FaultControl(endpoint);
    this.#faultControls.push(control);
    return control;
  }

  /** The last lines of every process's output, for error messages and failure reports. */
  diagnostics(lines = 40): string {
    return [...this.#processes.values()].map((child) => child.tail(lines)).join("\n");
  }

  /**
   * Closes the clients, SIGKILLs every process and waits for them to exit,
   * then removes the temp directory unless `keepDir`. Idempotent.
   */
  async cleanup(options: { readonly keepDir?: boolean } = {}): Promise<void> {
    if (this.#cleanedUp) return;
    this.#cleanedUp = true;
    for (const client of this.#clients) client.close();
    for (const control of this.#faultControls) control.close();
    await Promise.all([...this.#processes.values()].map((child) => child.kill("SIGKILL")));
    if (options.keepDir !== true) rmSync(this.dir, { recursive: true, force: true });
  }

  #spawn(name: string, args: readonly string[]): ManagedProcess {
    // In a group of its own: a Ctrl-C meant for the tool (a benchmark ending its step early) must not stop the cluster it measures.
    const child = ManagedProcess.spawn(name, args, { logFile: join(this.dir, `${name}.log`), env: this.#options.env, ownProcessGroup: true });
    this.#processes.set(name, child);
    return child;
  }

  async #controlEndpoint(index: number): Promise<string> {
    let endpoint = this.#controlEndpoints.get(index);
    if (endpoint === undefined) {
      endpoint = `tcp://127.0.0.1:${(await freeLoopbackPorts(1))[0] as number}`;
      this.#controlEndpoints.set(index, endpoint);
    }
    return endpoint;
  }

  /** The `curve` option of the clients this cluster makes: none without CURVE. */
  #clientCurve(): Pick<ZraftClientOptions, "curve"> {
    const curve = this.config.curve;
    const key = this.#options.clientKey;
    if (curve === undefined || key === undefined) return {};
    return { curve: { serverPublicKey: curve.publicKey, publicKey: key.publicKey, secretKey: key.secretKey } };
  }

  #assertNotRunning(name: string): void {
    if (this.#cleanedUp) throw new Error("the cluster has been cleaned up");
    if (this.#processes.get(name)?.running === true) throw new Error(`${name} is already running`);
  }
}

/** Writes a config on fresh ports in a fresh temp directory; starts nothing. */
export async function createLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  return new LocalCluster(await createClusterDirectory(options, "zraft-cluster-"), options);
}

/**
 * `createLocalCluster`, then the forwarder(s) and every server, then waits
 * until every server answers `status`. If that fails, every process is
 * killed and the directory is kept for a post-mortem: the error says where
 * it is and ends with each process's last lines.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const cluster = await createLocalCluster(options);
  try {
    await cluster.startAll();
  } catch (error) {
    await cluster.cleanup({ keepDir: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`the cluster did not start (kept in ${cluster.dir}): ${reason}\n${cluster.diagnostics()}`, { cause: error });
  }
  return cluster;
}
