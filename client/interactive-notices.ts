/**
 * What the interactive client tells the user while one request is retried:
 * one notice per change, not one per retry. ZraftClient emits an event per
 * attempt (with three of five servers down, one PUT emitted 15, each
 * printed); this keeps what was already said and speaks only when there is
 * something new: a server went away (said once until it answers again, however it fails meanwhile), no
 * leader is known (said once per request), the client was redirected to a
 * leader it had not been sent to, a write was not confirmed in time. A
 * request that was retried ends with how many attempts it took and how
 * long; why one failed is ZraftClient's error message to say.
 */
import type { ClusterConfig } from "../src/config/cluster-config.ts";
import type { FailoverEvent, RedirectEvent, RetryEvent } from "../src/client/zraft-client.ts";
import { assertNever } from "../src/base/assert.ts";

/** "port 5003" for a TCP endpoint, else the endpoint itself. */
export function where(endpoint: string): string {
  const match = /^tcp:\/\/.*:(\d+)$/.exec(endpoint);
  return match === null ? endpoint : `port ${match[1]}`;
}

/** "server 3 (port 5002)"; for a server outside the config, its endpoint. */
export function serverName(config: ClusterConfig, id: number | null, endpoint?: string): string {
  if (id === null) return endpoint ?? "an unknown server";
  const server = config.servers.find((candidate) => candidate.id === id);
  return `server ${id} (${where(server?.client ?? endpoint ?? "?")})`;
}

export class OperationNotices {
  /**
   * The servers said to have gone away, across requests until they answer
   * again; null for one outside the config. However a gone server fails next
   * (closing the connection, then silence, then refusing it), it is still gone.
   */
  readonly #gone = new Set<number | null>();
  /** Per request: */
  #startedAtMs = 0;
  #attempts = 0;
  #retried = false;
  readonly #said = new Set<string>();

  constructor(private readonly config: ClusterConfig) {}

  /** A new request starts. */
  begin(nowMs: number): void {
    this.#startedAtMs = nowMs;
    this.#attempts = 1;
    this.#retried = false;
    this.#said.clear();
  }

  /** The client turned away from a server: a notice when that server's going away is news. */
  failover(event: FailoverEvent): string | undefined {
    this.#attempts += 1;
    this.#retried = true;
    if (this.#gone.has(event.from)) return undefined;
    this.#gone.add(event.from);
    return `  ✗ ${failoverReason(this.config, event)}, trying ${serverName(this.config, event.to, event.endpoint)}`;
  }

  /** The client waits to try again: said once per request and reason. */
  retry(event: RetryEvent): string | undefined {
    this.#attempts += 1;
    this.#retried = true;
    // The server answered: a later failure of it is news again.
    if (event.server !== null) this.#gone.delete(event.server);
    if (!this.#once(event.reason)) return undefined;
    return event.reason === "NO_LEADER"
      ? `  … no leader yet (${serverName(this.config, event.server)} knows none): waiting for an election…`
      : "  … the write was not confirmed in time; trying it again (it takes effect once at most)";
  }

  /** The client was sent to the leader: said once per request and leader. */
  redirect(event: RedirectEvent): string | undefined {
    this.#attempts += 1;
    if (event.from !== null) this.#gone.delete(event.from);
    if (!this.#once(`redirect to ${event.endpoint}`)) return undefined;
    return `  ↪ redirected from ${serverName(this.config, event.from)} to the leader, ${serverName(this.config, event.to, event.endpoint)}`;
  }

  /** Server `id` answered: a later failure of it is news again. */
  answered(id: number | null): void {
    if (id !== null) this.#gone.delete(id);
  }

  /** The request ended; how many attempts it took when it was retried, undefined otherwise. */
  end(outcome: "succeeded" | "failed", nowMs: number): string | undefined {
    if (!this.#retried) return undefined;
    const seconds = ((nowMs - this.#startedAtMs) / 1000).toFixed(1);
    return `  ${outcome === "succeeded" ? "done after" : "gave up after"} ${this.#attempts} attempts in ${seconds} s`;
  }

  #once(what: string): boolean {
    if (this.#said.has(what)) return false;
    this.#said.add(what);
    return true;
  }
}

function failoverReason(config: ClusterConfig, event: FailoverEvent): string {
  const from = serverName(config, event.from);
  switch (event.reason) {
    case "no-reply":
      return `${from} is not answering`;
    case "disconnected":
      return `${from} closed the connection`;
    case "shutting-down":
      return `${from} is shutting down`;
    case "bad-reply":
      return `${from} sent a reply that breaks the protocol`;
    case "bad-endpoint":
      return `${from} cannot be connected to`;
    default:
      return assertNever(event.reason, "failover reason");
  }
}
