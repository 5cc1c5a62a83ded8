/**
 * What the load generator needs of its own process to hold `clients`
 * closed-loop clients at once, reserved before the first socket opens.
 *
 * Every zraft client holds a REQ socket and the monitor socket that watches
 * its connection (src/client/lazy-pirate-socket.ts), and ZeroMQ's context
 * admits 1023 sockets unless it is told more before its first socket: with
 * 1000 clients the bench once failed to open them, before it measured
 * anything. Each socket also holds a file descriptor or two (its mailbox,
 * its TCP connection; an etcd client its gRPC connections), so a shell's
 * `ulimit -n` must allow them; a limit too low is said at once, in one line.
 */
import { readFileSync } from "node:fs";
import { context } from "zeromq";

/**
 * A REQ socket and its monitor, which is two ZeroMQ sockets (the observer's
 * and libzmq's own), so three, measured; twice, since a client sent on to
 * the leader opens a new set while ZeroMQ still reaps the one it closed (a
 * 1000-client step with room for two, then four, per client ran out as
 * every client was redirected at once).
 */
const socketsPerClient = 6;
/** The five descriptors one set holds (mailboxes, the TCP connection), measured, twice; also room for etcd's gRPC connections. */
const descriptorsPerClient = 10;
/** The status pollers, preload writers and read-back readers beside the measured clients, and the process's own files. */
const spare = 256;

/** The soft limit on open files of this process (Linux /proc), or undefined when it cannot be read or is unlimited. */
export function openFilesLimit(limitsText: string | undefined = readLimits()): number | undefined {
  const match = /^Max open files\s+(\d+)/m.exec(limitsText ?? "");
  return match === null ? undefined : Number(match[1]);
}

function readLimits(): string | undefined {
  try {
    return readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
}

/** The file descriptors `clients` clients need, roughly and on the generous side. */
export const descriptorsNeeded = (clients: number): number => clients * descriptorsPerClient + spare;

/**
 * Why `clients` clients cannot run in this process (one line for the user),
 * or undefined when they can. `limit`: the open-files limit, undefined when unknown.
 */
export function clientsProblem(clients: number, limit: number | undefined): string | undefined {
  const needed = descriptorsNeeded(clients);
  if (limit === undefined || limit >= needed) return undefined;
  return `${clients} clients need about ${needed} open files and this process may open ${limit}: raise the limit first (ulimit -n ${needed})`;
}

/**
 * Lets ZeroMQ's context hold `clients` clients' sockets. It must run before
 * the process's first ZeroMQ socket: libzmq fixes the limit then.
 */
export function reserveClientSockets(clients: number): void {
  const needed = clients * socketsPerClient + spare;
  if (context.maxSockets < needed) context.maxSockets = needed;
}
