/**
 * `npm start` (= `npm run cluster`) `-- [--config F] [--log-level L] [--log-json F]`: every forwarder and
 * every server of the config as child processes in one terminal, each
 * output line prefixed with the process's name (`forwarder │ …`,
 * `server-3 │ …`), coloured on a terminal unless NO_COLOR is set. The log
 * options pass on to every child; the launcher's own lines follow the level
 * too (start and stop at info, a child's exit at warn).
 *
 * Children are spawned as `node scripts/run-program.mjs …` directly (no npm wrapper),
 * each in its own process group so that Ctrl-C reaches the launcher only and
 * the launcher stops them in order: SIGTERM to all, SIGKILL to any still
 * running after a grace period, then exit 0. A second Ctrl-C SIGKILLs at
 * once. If the launcher itself is killed (even with SIGKILL), each child
 * sees it through ZRAFT_PARENT_PID (src/cli/parent-watchdog.ts) and stops.
 *
 * If a child exits on its own during start-up (a port in use, a bad data
 * directory), the whole cluster is stopped and the exit code is 1. Later, a
 * child that exits (say, a server you killed to watch an election) is
 * reported and the others keep running; when none is left the launcher
 * exits with code 1.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ClusterConfig } from "../src/config/cluster-config.ts";
import { UsageError, configFromArgs, parseCommandLine, reportCommandLineError } from "../src/cli/args.ts";
import { isShownAt, logArgumentsOf, logOptions, logSettingsFrom, type LogLevel } from "../src/cli/log-options.ts";
import { parentPidVariable } from "../src/cli/parent-watchdog.ts";
import { repeatedSignalWindowMs } from "../src/cli/repeated-signal.ts";
import { configOption, helpText, optionSpecOf, usageLine, type ProgramOption } from "../src/cli/program-options.ts";

const command = "npm start --";

const options: readonly ProgramOption[] = [configOption, ...logOptions];

const usage = usageLine(command, options);

const help = helpText(
  command,
  [
    "Every forwarder and every server of the configuration, in this terminal, each line prefixed with the",
    "process's name; --log-level and --log-json pass on to each of them (one JSON file for all, each line",
    "naming its process). Ctrl-C stops them all; a second Ctrl-C kills them at once.",
    "Exit codes: 0 after Ctrl-C (SIGINT, SIGTERM, SIGHUP); 1 when a process fails during start-up or every",
    "process has exited; 2 on a usage or config error. (npm run cluster -- is the same command.)",
  ],
  options,
);

const repoRoot = projectRootAbove(fileURLToPath(import.meta.url));
/** Node's own options per program, as its npm script gives them (package.json). */
const nodeOptions = JSON.parse(readFileSync(join(repoRoot, "scripts", "program-node-options.json"), "utf8")) as Record<string, string[] | undefined>;
/** The environment variables per program, as its npm script sets them (package.json). */
const programEnvironment = JSON.parse(readFileSync(join(repoRoot, "scripts", "program-environment.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
/** Runs a program of scripts/programs.json from its compiled build. */
const programRunner = join(repoRoot, "scripts", "run-program.mjs");
/** How long children get to stop after SIGTERM before SIGKILL. */
const stopGraceMs = 5_000;
/** A child that exits on its own this soon after the start means the cluster could not start. */
const startupWindowMs = 5_000;

const colours = ["\x1b[36m", "\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[34m", "\x1b[91m", "\x1b[92m", "\x1b[93m", "\x1b[95m", "\x1b[96m"];
const resetColour = "\x1b[0m";
const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;

/** The nearest folder above `file` with a package.json: this module runs from scripts/ or from its build in dist/. */
function projectRootAbove(file: string): string {
  const folder = dirname(file);
  if (folder === file) throw new Error("no package.json above the launcher");
  return existsSync(join(folder, "package.json")) ? folder : projectRootAbove(folder);
}

interface ChildSpec {
  readonly name: string;
  /** A program of scripts/programs.json and its arguments. */
  readonly args: readonly string[];
}

interface RunningChild {
  readonly name: string;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** `commonArgs`: the config and log options every child takes. */
function childSpecs(config: ClusterConfig, commonArgs: readonly string[]): ChildSpec[] {
  const forwarders = config.forwarders.map((_, index) => ({
    name: config.forwarders.length === 1 ? "forwarder" : `forwarder-${index}`,
    args: ["forwarder", ...commonArgs, "--index", String(index)],
  }));
  const servers = config.servers.map((server) => ({
    name: `server-${server.id}`,
    args: ["server", "--id", String(server.id), ...commonArgs],
  }));
  return [...forwarders, ...servers];
}

class Launcher {
  readonly #children: RunningChild[] = [];
  readonly #prefixWidth: number;
  readonly #startedAtMs = performance.now();
  #stopping: Promise<void> | undefined;
  #stopReason: "signal" | "start-up failure" | undefined;
  #stopRequestedAtMs = 0;

  constructor(
    private readonly specs: readonly ChildSpec[],
    private readonly level: LogLevel,
  ) {
    this.#prefixWidth = Math.max("cluster".length, ...specs.map((spec) => spec.name.length));
  }

  start(): void {
    this.note("info", `starting ${this.specs.length} processes (launcher pid ${process.pid}); Ctrl-C stops them all`);
    this.specs.forEach((spec, i) => this.#spawn(spec, colours[i % colours.length] as string));
  }

  /** Asked by a signal: stop everything; a second request (a second Ctrl-C) kills at once. */
  requestStop(signal: NodeJS.Signals): void {
    if (this.#stopping !== undefined) {
      // One Ctrl-C under `npm start` arrives twice: from the terminal and relayed by npm. Only a later one is a second press.
      if (performance.now() - this.#stopRequestedAtMs < repeatedSignalWindowMs) return;
      this.note("warn", `${signal} again: killing every process now`);
      this.#signalAll("SIGKILL");
      return;
    }
    this.#stopReason = "signal";
    this.#stopRequestedAtMs = performance.now();
    this.#stop(`${signal} received`);
  }

  /**
   * Resolves when every child has exited (and a stop in progress is over)
   * with the launcher's exit code: 0 after a stop asked by a signal, 1 when
   * the cluster failed to start or every process exited on its own.
   */
  async finished(): Promise<number> {
    await Promise.all(this.#children.map((child) => child.exited));
    await this.#stopping;
    if (this.#stopReason === undefined) this.note("warn", "every process has exited");
    return this.#stopReason === "signal" ? 0 : 1;
  }

  /** One of the launcher's own lines, shown when `level` passes --log-level. */
  note(level: LogLevel, line: string): void {
    if (isShownAt(level, this.level)) this.say("cluster", line);
  }

  say(name: string, line: string, stream: NodeJS.WriteStream = process.stdout, colour = ""): void {
    const label = name.padEnd(this.#prefixWidth);
    stream.write(useColour && colour !== "" ? `${colour}${label} │${resetColour} ${line}\n` : `${label} │ ${line}\n`);
  }

  /** SIGTERM to every child, SIGKILL to those still running after the grace period. */
  #stop(reason: string): void {
    this.note("info", `${reason}: stopping every process`);
    this.#signalAll("SIGTERM");
    const timer = setTimeout(() => {
      const left = this.#children.filter((child) => child.exit === undefined).map((child) => child.name);
      this.note("warn", `still running after ${stopGraceMs} ms: ${left.join(", ")}; killing them`);
      this.#signalAll("SIGKILL");
    }, stopGraceMs);
    this.#stopping = Promise.all(this.#children.map((child) => child.exited)).then(() => {
      clearTimeout(timer);
      this.note("info", "all stopped");
    });
  }

  #spawn(spec: ChildSpec, colour: string): void {
    const child = spawn(process.execPath, [...(nodeOptions[spec.args[0] as string] ?? []), programRunner, ...spec.args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...programEnvironment[spec.args[0] as string], [parentPidVariable]: String(process.pid) },
      // Its own process group: a terminal's Ctrl-C reaches the launcher only, which then stops children in order.
      detached: true,
    });
    let resolveExited: () => void = () => {};
    const running: RunningChild = { name: spec.name, process: child, exited: new Promise((done) => (resolveExited = done)) };
    this.#children.push(running);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => this.say(spec.name, line, process.stdout, colour));
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => this.say(spec.name, line, process.stderr, colour));
    child.once("error", (error) => {
      this.say(spec.name, `could not start: ${error.message}`, process.stderr, colour);
    });
    child.once("close", (code, signal) => {
      running.exit = { code, signal };
      this.#onExit(running, colour);
      resolveExited();
    });
    this.note("info", `started ${spec.name} (pid ${child.pid ?? "?"})`);
  }

  #onExit(child: RunningChild, colour: string): void {
    const how = child.exit?.signal ? `killed by ${child.exit.signal}` : `exited with code ${child.exit?.code}`;
    // Expected while stopping; otherwise a process went away on its own, which an operator must see.
    if (isShownAt(this.#stopping === undefined ? "warn" : "info", this.level)) this.say(child.name, `(${how})`, process.stdout, colour);
    if (this.#stopping === undefined && performance.now() - this.#startedAtMs < startupWindowMs) {
      this.#stopReason = "start-up failure";
      this.#stop(`${child.name} stopped during start-up`);
    }
  }

  #signalAll(signal: NodeJS.Signals): void {
    for (const child of this.#children) {
      if (child.exit === undefined) child.process.kill(signal);
    }
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let specs: ChildSpec[];
  let level: LogLevel;
  try {
    const args = parseCommandLine(argv, optionSpecOf(options));
    if (args.flags.has("help")) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    const config = configFromArgs(args);
    const configPath = args.values.get("config") ?? process.env.ZRAFT_CONFIG;
    const logSettings = logSettingsFrom(args);
    level = logSettings.level;
    // Children run from the project root, so a relative path must be resolved here.
    const configArgs = configPath === undefined || configPath === "" ? [] : ["--config", resolve(configPath)];
    specs = childSpecs(config, [...configArgs, ...logArgumentsOf(logSettings)]);
  } catch (error) {
    const exitCode = reportCommandLineError("cluster", error, usage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }

  const launcher = new Launcher(specs, level);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => launcher.requestStop(signal));
  launcher.start();
  return launcher.finished();
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`cluster: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
