/**
 * Starting the project's own programs (forwarder, server, CLI) as children
 * of this process, in a way that never leaves one behind: whatever ends
 * this process, its children end too.
 *
 * Two layers: a `process.on("exit")` hook SIGKILLs every child still alive,
 * and ZRAFT_PARENT_PID in each child's environment makes the child stop
 * itself once this process is gone, even after a SIGKILL that runs no hook
 * (see src/cli/parent-watchdog.ts).
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parentPidVariable } from "../cli/parent-watchdog.ts";
import { environmentFor, nodeArgumentsFor } from "./program-command.ts";

/** The project root: children run from here so that `--import tsx` resolves. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Every child started here that may still be alive. */
const liveChildren = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
});

/**
 * Runs the script `args[0]` (a path from the project root) with the rest of
 * `args`, compiled when it is one of the built programs (see
 * program-command.ts), from the project root, with the program's own
 * environment variables, NO_COLOR so that captured output holds no escape
 * codes, and `env` over this process's environment.
 * `ownProcessGroup` keeps the terminal's Ctrl-C, which goes to the whole
 * foreground group, from reaching the child: only this process decides
 * what it stops (the exit hook above and the child's parent watchdog still
 * end it with this process).
 */
export function spawnProjectProcess(
  args: readonly string[],
  options: { readonly stdio: StdioOptions; readonly env?: NodeJS.ProcessEnv; readonly ownProcessGroup?: boolean },
): ChildProcess {
  const child = spawn(process.execPath, nodeArgumentsFor(args), {
    cwd: repoRoot,
    stdio: options.stdio,
    detached: options.ownProcessGroup === true,
    env: { ...process.env, ...environmentFor(args), NO_COLOR: "1", ...options.env, [parentPidVariable]: String(process.pid) },
  });
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  return child;
}
