/**
 * The end-to-end test harness: real forwarder and server processes on
 * loopback, each test file on its own free ports, with a temporary config
 * and data directory, output captured to files, and cleanup that leaves no
 * process behind whatever happens to the test.
 *
 * Typical use:
 *
 * ```ts
 * import { test } from "node:test";
 * import { TestCluster } from "./harness.ts";
 *
 * test("a write survives the leader's crash", async (t) => {
 *   const cluster = await TestCluster.start(t);          // forwarder + 5 servers, cleaned up after t
 *   const client = cluster.client();
 *   await client.put("k", "v");
 *   const leader = await cluster.findLeader();
 *   await cluster.kill(leader.id);                        // SIGKILL, waits for the exit
 *   assert.equal((await client.get("k")).value, "v");
 * });
 * ```
 *
 * Three layers make sure no child survives: `cleanup()` (registered with
 * `t.after` when a TestContext is given), a `process.on("exit")` hook that
 * SIGKILLs every child still alive, and ZRAFT_PARENT_PID in each child's
 * environment, with which a child stops itself once this test process is
 * gone, even after a SIGKILL (see src/cli/parent-watchdog.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import { validateClusterConfig, type ClusterConfig } from "../../src/config/cluster-config.ts";
import { ZraftClient, type StatusReply, type ZraftClientOptions } from "../../src/client/zraft-client.ts";
import { parentPidVariable } from "../../src/cli/parent-watchdog.ts";

/** The project root: children run from here so that `--import tsx` resolves. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

// ---------------------------------------------------------------------------
// Polling

export interface WaitOptions {
  /** Give up after this long (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Time between two probes (default 50 ms). */
  readonly intervalMs?: number;
  /** What is awaited, for the error message. */
  readonly what?: string;
}

/**
 * Calls `probe` until it returns something other than undefined, null or
 * false, and returns that. A probe that throws counts as "not yet" (its last
 * error is quoted if time runs out).
 *
 * @throws Error when `timeoutMs` passes first
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const because = lastError === undefined ? "" : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? "a condition"}${because}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// ---------------------------------------------------------------------------
// Ports

const handedOut = new Set<number>();
/** Below Linux's ephemeral range (32768+), so that no outgoing connection can take a port before its server binds it. */
const portRange = { low: 20_000, high: 32_000 } as const;
/**
 * Reservations shared by every test process on the machine: one file per
 * port holding its owner's pid. A port whose server is down for a while looks
 * free to a bind check, so a bind check alone lets two test files collide.
 */
const reservationDir = join(tmpdir(), "zraft-test-ports");

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Takes the machine-wide reservation of `port`, or a stale one whose owner has exited. */
function reserve(port: number): boolean {
  const file = join(reservationDir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      return true;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(file, "utf8"));
      } catch {
        continue; // released meanwhile: try to take it again
      }
      if (owner > 0 && isProcessAlive(owner)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

process.on("exit", () => {
  for (const port of handedOut) rmSync(join(reservationDir, String(port)), { force: true });
});

/**
 * `count` distinct TCP ports that are free on 127.0.0.1 now and reserved for
 * this process until it exits, so that test files running in parallel never
 * share one. Picked at random to keep contention low.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  mkdirSync(reservationDir, { recursive: true });
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 1000) throw new Error(`could not find ${count} free loopback ports`);
    const port = portRange.low + Math.floor(Math.random() * (portRange.high - portRange.low));
    if (handedOut.has(port) || !reserve(port)) continue;
    handedOut.add(port);
    if (!(await canBind(port))) continue;
    ports.push(port);
  }
  return ports;
}

// ---------------------------------------------------------------------------
// Processes

/** Every child the harness started that may still be alive. */
const liveChildren = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
});

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process run by the harness, its stdout and stderr appended to `logFile`. */
export class ManagedProcess {
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    liveChildren.add(child);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        liveChildren.delete(child);
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  /**
   * Runs `node --import tsx <args>` from the project root. The child writes
   * straight into `logFile`, so nothing is lost if this process dies.
   */
  static spawn(name: string, args: readonly string[], options: { readonly logFile: string; readonly env?: NodeJS.ProcessEnv }): ManagedProcess {
    const fd = openSync(options.logFile, "a");
    try {
      const child = spawn(process.execPath, ["--import", "tsx", ...args], {
        cwd: repoRoot,
        stdio: ["ignore", fd, fd],
        env: { ...process.env, NO_COLOR: "1", ...options.env, [parentPidVariable]: String(process.pid) },
      });
      return new ManagedProcess(name, child, options.logFile);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** How it ended; undefined while it runs. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Everything it has printed so far. */
  output(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** Waits until its output matches `pattern`. */
  async waitForOutput(pattern: RegExp, options: WaitOptions = {}): Promise<void> {
    await waitFor(() => pattern.test(this.output()) || (this.running ? false : Promise.reject(new Error(`${this.name} exited`))), {
      what: `${this.name} to print ${pattern}`,
      ...options,
    });
  }

  /** Sends `signal` and waits for the exit (no-op if it has exited). */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ProcessExit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 5_000): Promise<ProcessExit> {
    if (!this.running) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last `lines` lines of its output, prefixed with its name, for failure reports. */
  tail(lines = 40): string {
    const all = this.output().trimEnd().split("\n");
    return all.slice(-lines).map((line) => `${this.name} │ ${line}`).join("\n");
  }
}

/** What a finished command printed and how it ended. */
export interface CommandResult extends ProcessExit {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node --import tsx <args>` to completion (for one-shot commands such
 * as the CLI client) and returns its output. Killed after `timeoutMs`.
 */
export function runCommand(args: readonly string[], options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...options.env, [parentPidVariable]: String(process.pid) },
    });
    liveChildren.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Whether a process with this pid exists (a zombie counts as gone). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // Linux: field 3 of /proc/<pid>/stat is the state; Z is a zombie.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------------------
// Clusters

export interface TestClusterOptions {
  /** Number of servers, ids 1..n (default 5). */
  readonly servers?: number;
  /** Number of forwarders (default 1). */
  readonly forwarders?: number;
  /** Default [150, 300]. */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Default 50. */
  readonly heartbeatMs?: number;
  /** More fields for the config file (e.g. `curve`); they win over the ones above. */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  /** Extra arguments for every server, e.g. `["--log-level", "debug"]`. */
  readonly serverArgs?: readonly string[];
  /** Environment for every child. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A cluster of real processes for one test or test file: a temp directory
 * holding `cluster.json`, `data/` and one `<process>.log` per process
 * (appended to across restarts).
 */
export class TestCluster {
  readonly #processes = new Map<string, ManagedProcess>();
  readonly #clients: ZraftClient[] = [];
  readonly #options: TestClusterOptions;
  #cleanedUp = false;

  private constructor(
    /** The temp directory of this cluster. */
    readonly dir: string,
    /** Path of the config file every process is given. */
    readonly configPath: string,
    readonly config: ClusterConfig,
    options: TestClusterOptions,
  ) {
    this.#options = options;
  }

  /**
   * Writes a config on fresh ports in a fresh temp directory; starts nothing.
   * With `t`, cleanup is registered with `t.after` and log tails are printed
   * if the test failed.
   */
  static async create(t?: TestContext, options: TestClusterOptions = {}): Promise<TestCluster> {
    const serverCount = options.servers ?? 5;
    const forwarderCount = options.forwarders ?? 1;
    const ports = await freeLoopbackPorts(serverCount + 2 * forwarderCount);
    const endpoint = (i: number): string => `tcp://127.0.0.1:${ports[i] as number}`;
    const dir = mkdtempSync(join(tmpdir(), "zraft-e2e-"));
    const document = {
      forwarders: Array.from({ length: forwarderCount }, (_, i) => ({ pub: endpoint(serverCount + 2 * i), sub: endpoint(serverCount + 2 * i + 1) })),
      servers: Array.from({ length: serverCount }, (_, i) => ({ id: i + 1, client: endpoint(i) })),
      electionTimeoutMs: options.electionTimeoutMs ?? [150, 300],
      heartbeatMs: options.heartbeatMs ?? 50,
      dataDir: join(dir, "data"),
      ...options.extraConfig,
    };
    const configPath = join(dir, "cluster.json");
    writeFileSync(configPath, `${JSON.stringify(document, null, 2)}\n`);
    const cluster = new TestCluster(dir, configPath, validateClusterConfig(document, configPath), options);
    if (t !== undefined) {
      t.after(async () => {
        // TestContext.passed exists at run time since Node 20.12 but not in @types/node 20.
        const failed = (t as unknown as { passed?: boolean }).passed === false;
        await cluster.cleanup({ failed });
      });
    }
    return cluster;
  }

  /** `create`, then the forwarder(s) and every server, then waits until every server answers `status`. */
  static async start(t?: TestContext, options: TestClusterOptions = {}): Promise<TestCluster> {
    const cluster = await TestCluster.create(t, options);
    try {
      await cluster.startAll();
    } catch (error) {
      if (t === undefined) await cluster.cleanup({ failed: true });
      throw error;
    }
    return cluster;
  }

  /** The configured server ids. */
  get serverIds(): number[] {
    return this.config.servers.map((server) => server.id);
  }

  /** Starts forwarder `index` and waits until it has bound its endpoints. */
  async startForwarder(index = 0): Promise<ManagedProcess> {
    const name = `forwarder-${index}`;
    this.#assertNotRunning(name);
    const forwarder = this.#spawn(name, ["forwarder/main.ts", "--config", this.configPath, "--index", String(index)]);
    await forwarder.waitForOutput(/publishers connect to/, { timeoutMs: 15_000 });
    return forwarder;
  }

  /** Starts server `id` (does not wait: see `waitForServer`). */
  startServer(id: number, extraArgs: readonly string[] = []): ManagedProcess {
    const name = `server-${id}`;
    this.#assertNotRunning(name);
    if (!this.serverIds.includes(id)) throw new RangeError(`server ${id} is not in the config`);
    return this.#spawn(name, ["src/server/main.ts", "--id", String(id), "--config", this.configPath, ...(this.#options.serverArgs ?? []), ...extraArgs]);
  }

  /** Starts every forwarder and server, and waits until each server answers `status`. */
  async startAll(): Promise<void> {
    for (let i = 0; i < this.config.forwarders.length; i++) await this.startForwarder(i);
    for (const id of this.serverIds) this.startServer(id);
    await Promise.all(this.serverIds.map((id) => this.waitForServer(id)));
  }

  /** Waits until server `id` answers `status`; returns that status. */
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
    const client = new ZraftClient({ config: this.config });
    try {
      return await client.status(id, { timeoutMs });
    } catch {
      return undefined;
    } finally {
      client.close();
    }
  }

  /** The statuses of every server that answers, by id. */
  async statuses(timeoutMs = 500): Promise<Map<number, StatusReply>> {
    const answers = await Promise.all(this.serverIds.map(async (id) => [id, await this.status(id, timeoutMs)] as const));
    return new Map(answers.filter((answer): answer is readonly [number, StatusReply] => answer[1] !== undefined));
  }

  /**
   * Waits for a settled leader: a server that says it leads, whose term is
   * the highest any server reports, and that a majority of the configured
   * servers (it included) name as leader in that term. Returns its status.
   */
  async findLeader(options: WaitOptions = {}): Promise<StatusReply> {
    const majority = Math.floor(this.serverIds.length / 2) + 1;
    return waitFor(
      async () => {
        const statuses = [...(await this.statuses()).values()];
        const topTerm = Math.max(...statuses.map((status) => status.term));
        const leader = statuses.find((status) => status.role === "leader" && status.term === topTerm);
        if (leader === undefined) return undefined;
        const followers = statuses.filter((status) => status.term === leader.term && status.leaderId === leader.id);
        return followers.length >= majority ? leader : undefined;
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

  /** A ZraftClient for this cluster (fast timeouts by default), closed by cleanup. */
  client(options: Partial<Omit<ZraftClientOptions, "config">> = {}): ZraftClient {
    const client = new ZraftClient({ config: this.config, requestTimeoutMs: 500, deadlineMs: 15_000, ...options });
    this.#clients.push(client);
    return client;
  }

  /** The last lines of every process's output: put it in assertion messages. */
  diagnostics(lines = 40): string {
    return [...this.#processes.values()].map((child) => child.tail(lines)).join("\n");
  }

  /**
   * Closes the clients, SIGKILLs every process and waits for them to exit.
   * Removes the temp directory unless `failed` (then prints where it is and
   * the log tails) or ZRAFT_KEEP_TEST_DIRS is set. Idempotent.
   */
  async cleanup(options: { readonly failed?: boolean } = {}): Promise<void> {
    if (this.#cleanedUp) return;
    this.#cleanedUp = true;
    for (const client of this.#clients) client.close();
    await Promise.all([...this.#processes.values()].map((child) => child.kill("SIGKILL")));
    if (options.failed === true) {
      process.stderr.write(`\n--- e2e cluster ${this.dir} (kept) ---\n${this.diagnostics()}\n`);
    } else if (!process.env.ZRAFT_KEEP_TEST_DIRS) {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  #spawn(name: string, args: readonly string[]): ManagedProcess {
    const child = ManagedProcess.spawn(name, args, { logFile: join(this.dir, `${name}.log`), env: this.#options.env });
    this.#processes.set(name, child);
    return child;
  }

  #assertNotRunning(name: string): void {
    if (this.#cleanedUp) throw new Error("the cluster has been cleaned up");
    if (this.#processes.get(name)?.running === true) throw new Error(`${name} is already running`);
  }
}
