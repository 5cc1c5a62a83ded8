/**
 * A running cluster the tool attaches to (--config F): it signals the pids
 * the servers report in their status replies, and starts a killed server
 * again itself, as `node --import tsx src/server/main.ts --id N --config F`,
 * detached, so that the server stays up after the tool exits as the
 * cluster did before (its output goes to a log file in the temp folder,
 * named on the terminal). A server the tool paused is continued before it
 * exits, however it exits (short of SIGKILL).
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ZraftClient, type ZraftClientOptions } from "../client/zraft-client.ts";
import { parentPidVariable } from "../cli/parent-watchdog.ts";
import { loadClusterConfig, type ClusterConfig } from "../config/cluster-config.ts";
import { loadKeyPairFile } from "../config/key-pair-file.ts";
import { isProcessAlive, repoRoot, waitFor } from "../local-cluster/index.ts";
import type { CurveClientKeys } from "../net/curve-security.ts";
import { statusOnce } from "../client/status-once.ts";
import type { ClusterTarget } from "./cluster-target.ts";

export class AttachedTarget implements ClusterTarget {
  readonly config: ClusterConfig;
  readonly curve: CurveClientKeys | undefined;
  readonly #configPath: string;
  readonly #clients: ZraftClient[] = [];
  /** Pids this tool stopped and has not continued yet, by server id. */
  readonly #paused = new Map<number, number>();
  readonly #continueOnExit = (): void => {
    for (const pid of this.#paused.values()) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // Gone already.
      }
    }
  };
  /** Log files of the servers this tool started again. */
  readonly restartLogs: string[] = [];

  constructor(configPath: string, keyFile: string | undefined) {
    this.#configPath = resolve(configPath);
    this.config = loadClusterConfig(this.#configPath);
    const curve = this.config.curve;
    if (curve !== undefined && keyFile === undefined) {
      throw new Error(`${configPath} has a curve section: give the demo a client key pair with --key FILE or ZRAFT_CLIENT_KEY`);
    }
    const pair = curve === undefined || keyFile === undefined ? undefined : loadKeyPairFile(keyFile);
    this.curve = curve === undefined || pair === undefined ? undefined : { serverPublicKey: curve.publicKey, publicKey: pair.publicKey, secretKey: pair.secretKey };
    process.on("exit", this.#continueOnExit);
  }

  get serverIds(): readonly number[] {
    return this.config.servers.map((server) => server.id);
  }

  get description(): string {
    return (
      `the running cluster of ${this.#configPath}: ${this.config.servers.length} servers; ` +
      `election timeout ${this.config.electionTimeoutMs.join("-")} ms, heartbeat ${this.config.heartbeatMs} ms`
    );
  }

  client(options: Partial<Omit<ZraftClientOptions, "config" | "curve">>): ZraftClient {
    const client = new ZraftClient({ config: this.config, ...(this.curve === undefined ? {} : { curve: this.curve }), ...options });
    this.#clients.push(client);
    return client;
  }

  status(id: number, timeoutMs = 500): ReturnType<ClusterTarget["status"]> {
    return statusOnce(this.config, this.curve, id, timeoutMs);
  }

  async kill(id: number, pid: number): Promise<void> {
    process.kill(pid, "SIGKILL");
    await waitFor(() => !isProcessAlive(pid), { timeoutMs: 10_000, intervalMs: 5, what: `server ${id} (pid ${pid}) to exit` });
  }

  pause(id: number, pid: number): void {
    process.kill(pid, "SIGSTOP");
    this.#paused.set(id, pid);
  }

  resume(id: number): void {
    const pid = this.#paused.get(id);
    if (pid === undefined) return;
    this.#paused.delete(id);
    process.kill(pid, "SIGCONT");
  }

  async restart(id: number): Promise<void> {
    const logFile = join(tmpdir(), `zraft-failover-server-${id}-${process.pid}.log`);
    const fd = openSync(logFile, "a");
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
      delete env[parentPidVariable];
      const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts", "--id", String(id), "--config", this.#configPath], {
        cwd: repoRoot,
        stdio: ["ignore", fd, fd],
        env,
        detached: true,
      });
      child.unref();
    } finally {
      closeSync(fd);
    }
    this.restartLogs.push(logFile);
    await waitFor(() => this.status(id), { timeoutMs: 30_000, what: `server ${id} to answer after its restart (log: ${logFile})` });
  }

  async cleanup(): Promise<void> {
    this.#continueOnExit();
    this.#paused.clear();
    process.off("exit", this.#continueOnExit);
    for (const client of this.#clients) client.close();
  }
}
