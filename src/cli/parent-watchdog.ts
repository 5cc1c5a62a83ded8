import { readFileSync } from "node:fs";

/**
 * The launcher (`npm start`) and src/local-cluster start their children with
 * ZRAFT_PARENT_PID set to their own pid. A child that sees it watches that
 * process and stops itself, as on SIGTERM, once it is gone, so that no
 * forwarder or server outlives a launcher killed with SIGKILL.
 *
 * Contract: when ZRAFT_PARENT_PID=<pid> is set, every `checkIntervalMs` the
 * child asks whether its parent is still <pid>: on Linux by reading the live
 * parent pid from /proc/self/stat (node's `process.ppid` is read once at
 * start-up), which changes the moment the parent dies, even while the dead
 * parent is an unreaped zombie; elsewhere by `process.kill(pid, 0)`.
 *
 * The parent reads the child's stdout and stderr, so a write failing there
 * (EPIPE) also means it is gone, and is often noticed first. Such a failure
 * must not crash the child in the middle of its stop: it is taken as the
 * same signal. Once the parent is gone nobody waits for the child, so a stop
 * that hangs (a slow disk, a stuck socket) is cut short after
 * `orphanStopLimitMs` with exit code 1: the state on disk is what Raft
 * relies on (docs/architecture.md §4), not a clean close.
 */
export const parentPidVariable = "ZRAFT_PARENT_PID";

const checkIntervalMs = 500;
const orphanStopLimitMs = 5_000;

/** The current parent pid from /proc, or undefined where /proc is missing. */
function livePpid(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync("/proc/self/stat", "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

function isStillParent(pid: number): boolean {
  const ppid = livePpid();
  if (ppid !== undefined) return ppid === pid;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Calls `onParentGone` once when the process named by ZRAFT_PARENT_PID is no
 * longer this process's parent, or stdout or stderr fails. Does nothing when
 * the variable is unset. Returns a function that stops watching. The timer
 * does not keep the process alive.
 *
 * @throws Error when the variable is set but is not a positive integer
 */
export function watchParentProcess(onParentGone: () => void, env: NodeJS.ProcessEnv = process.env): () => void {
  const text = env[parentPidVariable];
  if (text === undefined || text === "") return () => {};
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${parentPidVariable} must be a process id, got "${text}"`);
  const outputs = [process.stdout, process.stderr];
  let gone = false;
  const stopWatching = (): void => {
    clearInterval(timer);
    for (const output of outputs) output.off("error", parentGone);
  };
  // Stays attached once the parent is gone: every later line fails the same way, and must not crash the stop.
  const ignoreOutputError = (): void => {};
  function parentGone(): void {
    if (gone) return;
    gone = true;
    stopWatching();
    for (const output of outputs) output.on("error", ignoreOutputError);
    setTimeout(() => process.exit(1), orphanStopLimitMs).unref();
    onParentGone();
  }
  const timer = setInterval(() => {
    if (!isStillParent(pid)) parentGone();
  }, checkIntervalMs);
  timer.unref();
  for (const output of outputs) output.on("error", parentGone);
  return stopWatching;
}
