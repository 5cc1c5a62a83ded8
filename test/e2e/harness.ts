/**
 * The end-to-end test harness: real forwarder and server processes on
 * loopback (src/local-cluster), each test file on its own free ports, with a
 * temporary config and data directory, output captured to files, and
 * cleanup that leaves no process behind whatever happens to the test.
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
 * gone, even after a SIGKILL (see src/local-cluster/project-process.ts).
 *
 * What is not tied to a test lives in src/local-cluster, so that benchmarks
 * and tools can run clusters too; it is re-exported here so that tests
 * import one module.
 */
import type { TestContext } from "node:test";
import { createClusterDirectory } from "../../src/local-cluster/cluster-directory.ts";
import { LocalCluster, type LocalClusterOptions } from "../../src/local-cluster/local-cluster.ts";
import type { ProcessExit } from "../../src/local-cluster/managed-process.ts";
import { spawnProjectProcess } from "../../src/local-cluster/project-process.ts";
import { isProcessAlive } from "../../src/local-cluster/process-alive.ts";
import { execFileSync } from "node:child_process";

export { ManagedProcess, type ProcessExit } from "../../src/local-cluster/managed-process.ts";
export { freeLoopbackPorts } from "../../src/local-cluster/ports.ts";
export { isProcessAlive } from "../../src/local-cluster/process-alive.ts";
export { repoRoot } from "../../src/local-cluster/project-process.ts";
export { waitFor, type WaitOptions } from "../../src/local-cluster/wait-for.ts";

// ---------------------------------------------------------------------------
// One-shot commands

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
    const child = spawnProjectProcess(args, { stdio: ["ignore", "pipe", "pipe"], env: options.env });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The live processes whose command line mentions `text` (a cluster's folder, say): what a run must not leave behind. */
export function liveProcessesMentioning(text: string): number[] {
  return execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(text))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
    .filter((pid) => isProcessAlive(pid));
}

// ---------------------------------------------------------------------------
// Clusters

export type TestClusterOptions = LocalClusterOptions;

/**
 * A LocalCluster for one test or test file, in a `zraft-e2e-` temp
 * directory. Given a TestContext, it cleans up after the test and, if the
 * test failed, keeps the directory and prints every process's last lines.
 */
export class TestCluster extends LocalCluster {
  /**
   * Writes a config on fresh ports in a fresh temp directory; starts nothing.
   * With `t`, cleanup is registered with `t.after` and log tails are printed
   * if the test failed.
   */
  static async create(t?: TestContext, options: TestClusterOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(await createClusterDirectory(options, "zraft-e2e-"), options);
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

  /** Sends `name` to server `id` without waiting for it to exit (SIGSTOP and SIGCONT do not end it). */
  signalServer(id: number, name: NodeJS.Signals): void {
    const server = this.process(`server-${id}`);
    if (server?.running === true) process.kill(server.pid, name);
  }

  /**
   * Closes the clients, SIGKILLs every process and waits for them to exit.
   * Removes the temp directory unless `failed` (then prints where it is and
   * the log tails), `keepDir` or ZRAFT_KEEP_TEST_DIRS is set. Idempotent.
   */
  override async cleanup(options: { readonly failed?: boolean; readonly keepDir?: boolean } = {}): Promise<void> {
    if (this.cleanedUp) return;
    const failed = options.failed === true;
    await super.cleanup({ keepDir: failed || options.keepDir === true || Boolean(process.env.ZRAFT_KEEP_TEST_DIRS) });
    if (failed) process.stderr.write(`\n--- e2e cluster ${this.dir} (kept) ---\n${this.diagnostics()}\n`);
  }
}
