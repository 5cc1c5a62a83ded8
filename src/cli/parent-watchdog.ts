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
 */
export const parentPidVariable = "ZRAFT_PARENT_PID";

const checkIntervalMs = 500;

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
 * longer this process's parent. Does nothing when the variable is unset.
 * Returns a function that stops watching. The timer does not keep the
 * process alive.
 *
 * @throws Error when the variable is set but is not a positive integer
 */
export function watchParentProcess(onParentGone: () => void, env: NodeJS.ProcessEnv = process.env): () => void {
  const text = env[parentPidVariable];
  if (text === undefined || text === "") return () => {};
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${parentPidVariable} must be a process id, got "${text}"`);
  const timer = setInterval(() => {
    if (isStillParent(pid)) return;
    clearInterval(timer);
    onParentGone();
  }, checkIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
