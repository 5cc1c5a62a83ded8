/**
 * How node runs a project script: the built programs (the server, the
 * forwarder, the `npm start` launcher and the `zraft` command, named in
 * scripts/programs.json) from their compiled build, through
 * scripts/run-program.mjs, which builds one first when it is missing or
 * stale; any other script (a tool or a test's helper) through tsx.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const scriptsDir = fileURLToPath(new URL("../../scripts/", import.meta.url));

/** Program name to the source file it starts from. */
const programs = JSON.parse(readFileSync(join(scriptsDir, "programs.json"), "utf8")) as Record<string, string>;

/**
 * Node's own options for a program (scripts/program-node-options.json),
 * which its npm script (package.json) and the `npm start` launcher give it
 * too. A server's young generation is held at 2 MiB semi-spaces (V8 grows
 * them to 16 MiB under a server's steady allocation) and its old generation
 * may grow to 1.4 times what the last full collection kept (V8 otherwise
 * lets a busy leader's heap reach four times its live objects): together
 * about 55 MB less RSS on a leader under 128 clients, for no throughput
 * that the benchmark could tell from its noise (README, "Memory, disk and restart").
 */
export const programNodeOptions = JSON.parse(readFileSync(join(scriptsDir, "program-node-options.json"), "utf8")) as Readonly<Record<string, readonly string[]>>;

/**
 * Environment variables for a program (scripts/program-environment.json),
 * which its npm script and the `npm start` launcher set too. A server's
 * malloc gets a fixed mmap threshold: glibc otherwise raises it to the size
 * of every large block freed (up to 32 MiB), after which blocks that size
 * come from the heap, where what is freed stays resident. Under 128 clients
 * a leader's peak RSS fell from 144-147 MB to 129-135 MB, a follower's from
 * 116-134 MB to 109-116 MB (README, "Memory, disk and restart").
 */
export const programEnvironment = JSON.parse(readFileSync(join(scriptsDir, "program-environment.json"), "utf8")) as Readonly<
  Record<string, Readonly<Record<string, string>>>
>;

/** The built program that starts from `script`, if it is one. */
function programOf(script: string | undefined): string | undefined {
  return Object.keys(programs).find((name) => programs[name] === script);
}

/** The arguments for node that run the script `args[0]` (a path from the project root) with the rest of `args`. */
export function nodeArgumentsFor(args: readonly string[]): string[] {
  const [script, ...rest] = args;
  const program = programOf(script);
  if (program === undefined) return ["--import", "tsx", ...args];
  return [...(programNodeOptions[program] ?? []), join(scriptsDir, "run-program.mjs"), program, ...rest];
}

/** The environment variables that the script `args[0]` runs with, over the caller's. */
export function environmentFor(args: readonly string[]): Readonly<Record<string, string>> {
  const program = programOf(args[0]);
  return program === undefined ? {} : (programEnvironment[program] ?? {});
}
