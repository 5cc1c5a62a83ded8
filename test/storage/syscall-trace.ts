/**
 * Reads `strace -f -y` output and decides whether a "saved" marker was
 * written only after the data file had been made durable. Support for
 * durability.test.ts (not a test itself).
 */

/** One system call; its start and end are line numbers in the trace (they differ when strace split it). */
export interface Syscall {
  readonly pid: number;
  readonly name: string;
  readonly args: string;
  readonly result: string;
  readonly startLine: number;
  readonly endLine: number;
}

const callPattern = /^(\w+)\((.*)\)\s+=\s+(.*)$/s;

function toSyscall(pid: number, text: string, startLine: number, endLine: number): Syscall | null {
  const match = callPattern.exec(text);
  if (match === null) return null;
  const [, name = "", args = "", result = ""] = match;
  return { pid, name, args, result, startLine, endLine };
}

/** Parses a trace written with `strace -f -o file`, joining calls that strace split into "unfinished" and "resumed". */
export function parseStraceLog(text: string): Syscall[] {
  const calls: Syscall[] = [];
  const unfinished = new Map<number, { readonly text: string; readonly line: number }>();
  text.split("\n").forEach((line, lineNumber) => {
    const prefixed = /^(\d+)\s+(.*)$/s.exec(line);
    if (prefixed === null) return;
    const pid = Number(prefixed[1]);
    const rest = prefixed[2] ?? "";
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/s.exec(rest);
    if (resumed !== null) {
      const start = unfinished.get(pid);
      if (start === undefined) return;
      unfinished.delete(pid);
      const call = toSyscall(pid, start.text + (resumed[1] ?? ""), start.line, lineNumber);
      if (call !== null) calls.push(call);
      return;
    }
    const cut = rest.indexOf(" <unfinished ...>");
    if (cut >= 0) {
      unfinished.set(pid, { text: rest.slice(0, cut), line: lineNumber });
      return;
    }
    const call = toSyscall(pid, rest, lineNumber, lineNumber);
    if (call !== null) calls.push(call);
  });
  return calls.sort((a, b) => a.endLine - b.endLine);
}

const writeCalls = new Set(["write", "pwrite64", "writev", "pwritev", "pwritev2"]);
const syncCalls = new Set(["fsync", "fdatasync"]);

// With -y strace prints each fd as `N</path>`.
function fdPath(text: string): string | null {
  return /^-?\d+<(.*?)>/.exec(text)?.[1] ?? null;
}

function writesStdout(call: Syscall, marker: string): boolean {
  return call.name === "write" && /^1\b/.test(call.args) && call.args.includes(JSON.stringify(marker));
}

/**
 * Returns null when, between the end of the write of `startMarker` and the
 * start of the write of `endMarker` on stdout, the process wrote `dataFile`
 * and made every such write durable before `endMarker` was written: each
 * write is on an fd opened with O_DSYNC/O_SYNC, or is followed by an
 * fsync/fdatasync of the file (or an msync with MS_SYNC) that completed before
 * the marker, and no I/O on the file was still running at the marker.
 * Otherwise returns what is wrong.
 */
export function findDurabilityViolation(
  calls: readonly Syscall[],
  dataFile: string,
  startMarker: string,
  endMarker: string,
): string | null {
  const start = calls.find((call) => writesStdout(call, startMarker));
  const end = calls.find((call) => writesStdout(call, endMarker));
  if (start === undefined || end === undefined) return `markers ${startMarker} / ${endMarker} not found in the trace`;

  const syncOnWriteFds = new Set<string>();
  const onDataFile = (call: Syscall): boolean => fdPath(call.args) === dataFile;
  const writes: { readonly call: Syscall; readonly durableAtOnce: boolean }[] = [];
  const syncs: Syscall[] = [];
  for (const call of calls) {
    if (call.name === "openat" && fdPath(call.result) === dataFile && /O_D?SYNC/.test(call.args)) {
      syncOnWriteFds.add(call.result);
    } else if (call.name === "close" && onDataFile(call)) {
      syncOnWriteFds.delete(call.args);
    }
    const inWindow = call.startLine > start.endLine && call.startLine < end.startLine;
    if (!inWindow) continue;
    const isWrite = writeCalls.has(call.name) && onDataFile(call);
    const isSync = (syncCalls.has(call.name) && onDataFile(call)) || (call.name === "msync" && call.args.includes("MS_SYNC"));
    if ((isWrite || isSync) && call.endLine > end.startLine) {
      return `${call.name} on line ${call.startLine + 1} was still running when ${endMarker} was written`;
    }
    if (isWrite) writes.push({ call, durableAtOnce: syncOnWriteFds.has(call.args.slice(0, call.args.indexOf(">") + 1)) });
    if (isSync) syncs.push(call);
  }
  if (writes.length === 0) return `no write to ${dataFile} between ${startMarker} and ${endMarker}`;
  for (const { call, durableAtOnce } of writes) {
    if (durableAtOnce) continue;
    if (!syncs.some((sync) => sync.startLine > call.endLine)) {
      return `${call.name} on line ${call.startLine + 1} was not followed by fsync/fdatasync before ${endMarker}`;
    }
  }
  return null;
}
