/**
 * A local five-member etcd cluster for `npm run bench -- --vs-etcd`: the
 * `etcd` binary on PATH, every member on loopback ports, its data and log
 * in a temporary folder, the Raft timing asked for (the bench gives both
 * systems the same), etcd's defaults otherwise (fsync on: no
 * --unsafe-no-fsync). `start` waits until a linearizable read succeeds (a
 * leader is elected); `stop` ends the members (SIGTERM, then SIGKILL) and
 * removes the folder. A `process.on("exit")` hook SIGKILLs any member
 * still alive and removes the folder of a cluster not stopped, so that
 * Ctrl-C, a kill or a failed run (which all exit through process.exit,
 * see src/cli/run-tool.ts) leave neither behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, openSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Etcd3 } from "etcd3";
import { freeLoopbackPorts, waitFor } from "../local-cluster/index.ts";
import type { RaftTiming } from "./bench-options.ts";

const memberCount = 5;
const running = new Set<ChildProcess>();
/** The folders of clusters not stopped yet, removed on an early exit. */
const folders = new Set<string>();

process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of folders) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a member still dying wrote into it: the folder is in the temporary directory, nothing else depends on it
    }
  }
});

/** The path of the `etcd` executable on PATH, or undefined. */
export function findEtcdBinary(path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter).filter((entry) => entry !== "")) {
    const candidate = join(dir, "etcd");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly child: ChildProcess;
}

export class EtcdCluster {
  #stopped = false;

  private constructor(
    readonly binary: string,
    readonly timing: RaftTiming,
    readonly dir: string,
    readonly members: readonly EtcdMember[],
  ) {}

  /** Starts five members of `binary` in a new temporary folder and waits for a leader. */
  static async start(binary: string, timing: RaftTiming): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(tmpdir(), "zraft-bench-etcd-"));
    folders.add(dir);
    const ports = await freeLoopbackPorts(2 * memberCount);
    const names = Array.from({ length: memberCount }, (_, index) => `etcd-${index + 1}`);
    const peerUrl = (index: number): string => `http://127.0.0.1:${ports[2 * index + 1]}`;
    const initialCluster = names.map((name, index) => `${name}=${peerUrl(index)}`).join(",");
    const members = names.map((name, index) => {
      const clientUrl = `http://127.0.0.1:${ports[2 * index]}`;
      const log = openSync(join(dir, `${name}.log`), "a");
      const child = spawn(
        binary,
        [
          ["--name", name],
          ["--data-dir", join(dir, name)],
          ["--listen-client-urls", clientUrl],
          ["--advertise-client-urls", clientUrl],
          ["--listen-peer-urls", peerUrl(index)],
          ["--initial-advertise-peer-urls", peerUrl(index)],
          ["--initial-cluster", initialCluster],
          ["--initial-cluster-state", "new"],
          ["--initial-cluster-token", `zraft-bench-${process.pid}`],
          ["--heartbeat-interval", String(timing.heartbeatMs)],
          ["--election-timeout", String(timing.electionTimeoutMs)],
        ].flat(),
        { stdio: ["ignore", log, log] },
      );
      closeSync(log);
      running.add(child);
      child.once("exit", () => running.delete(child));
      return { name, clientUrl, child };
    });
    const cluster = new EtcdCluster(binary, timing, dir, members);
    try {
      await cluster.waitForLeader();
    } catch (error) {
      await cluster.stop({ keepDir: true });
      throw error;
    }
    return cluster;
  }

  get clientUrls(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  /** Resolves once a linearizable read through every member succeeds: the cluster has a leader and all serve. */
  private async waitForLeader(): Promise<void> {
    const clients = this.members.map((member) => new Etcd3({ hosts: member.clientUrl }));
    try {
      await waitFor(
        async () => {
          const exited = this.members.find((member) => member.child.exitCode !== null || member.child.signalCode !== null);
          if (exited !== undefined) throw new Error(`${exited.name} exited during start-up; see ${join(this.dir, `${exited.name}.log`)}`);
          const reads = await Promise.allSettled(clients.map((client) => client.get("zraft-bench/leader-probe").options({ deadline: Date.now() + 1_000 })));
          return reads.every((read) => read.status === "fulfilled");
        },
        { timeoutMs: 30_000, intervalMs: 200, what: "the etcd cluster to elect a leader" },
      );
    } finally {
      for (const client of clients) client.close();
    }
  }

  /** SIGTERM to every member, SIGKILL to those alive after 5 s; then removes the folder unless `keepDir`. Idempotent. */
  async stop(options: { readonly keepDir?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(
      this.members.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    folders.delete(this.dir);
    if (options.keepDir !== true) rmSync(this.dir, { recursive: true, force: true });
  }
}
