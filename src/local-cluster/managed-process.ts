/**
 * One long-running project process (a forwarder or a server) whose output
 * goes to a file: the file outlives both processes, so what a process
 * printed before a crash can still be read, by code that waits for a line
 * or by a person after a failure.
 */
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { spawnProjectProcess } from "./project-process.ts";
import { waitFor, type WaitOptions } from "./wait-for.ts";

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process, its stdout and stderr appended to `logFile`. */
export class ManagedProcess {
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  /**
   * Runs the project script `args[0]` (see spawnProjectProcess). The child writes
   * straight into `logFile`, not through a pipe to this process, so nothing
   * is lost if this process dies.
   */
  static spawn(name: string, args: readonly string[], options: { readonly logFile: string; readonly env?: NodeJS.ProcessEnv; readonly ownProcessGroup?: boolean }): ManagedProcess {
    const fd = openSync(options.logFile, "a");
    try {
      const child = spawnProjectProcess(args, { stdio: ["ignore", fd, fd], env: options.env, ownProcessGroup: options.ownProcessGroup });
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

  /** Waits until its output matches `pattern`; fails at once if it exits first. */
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
