/**
 * A client of a forwarder's fault-injection control socket (docs/protocol.md
 * §11), for tests and the chaos tool: partition, isolate, lose or delay
 * Raft messages in a cluster started with `faultControl: true`.
 *
 * ```ts
 * const cluster = await startLocalCluster({ faultControl: true });
 * const faults = cluster.faultControl();
 * await faults.isolate(leader.id);           // the others elect a new leader
 * await faults.clear();
 * ```
 *
 * Rules live in the forwarder's memory: a forwarder that restarts starts
 * with none.
 */
import { decodeReply, encodeRequest } from "../client/client-codec.ts";
import { LazyPirateSocket } from "../client/lazy-pirate-socket.ts";

/** The forwarder refused a request, or did not answer in time. */
export class FaultControlError extends Error {
  override readonly name = "FaultControlError";
}

export interface DropOptions {
  /** Drop only messages from `from` to `to`, not the answers (default: both ways). */
  readonly oneWay?: boolean;
}

export class FaultControl {
  readonly #socket: LazyPirateSocket;
  readonly #timeoutMs: number;
  /** One exchange at a time on a REQ socket: calls wait their turn. */
  #queue: Promise<unknown> = Promise.resolve();

  /** `timeoutMs` bounds each request, including the wait for a forwarder that is still starting. */
  constructor(
    readonly endpoint: string,
    timeoutMs = 5_000,
  ) {
    this.#socket = new LazyPirateSocket(endpoint);
    this.#timeoutMs = timeoutMs;
  }

  /** Drops every message to or from `server`. Returns the rules now in force, one line each. */
  isolate(server: number): Promise<readonly string[]> {
    return this.#request({ op: "isolate", server });
  }

  /** Drops messages between the two groups (both ways unless `oneWay`). */
  drop(from: readonly number[], to: readonly number[], options: DropOptions = {}): Promise<readonly string[]> {
    return this.#request({ op: "drop", from, to, oneWay: options.oneWay ?? false });
  }

  /** Drops a `fraction` of the other messages, drawn from `seed` (0 turns loss off). */
  loss(fraction: number, seed = 1): Promise<readonly string[]> {
    return this.#request({ op: "loss", fraction, seed });
  }

  /** Holds each message `ms` plus up to `jitterMs` (0 and 0 turn delay off). */
  delay(ms: number, jitterMs = 0): Promise<readonly string[]> {
    return this.#request({ op: "delay", ms, jitterMs });
  }

  /** Removes every rule and setting. */
  clear(): Promise<readonly string[]> {
    return this.#request({ op: "clear" });
  }

  /** The rules in force, changing nothing. */
  rules(): Promise<readonly string[]> {
    return this.#request({ op: "rules" });
  }

  close(): void {
    this.#socket.close();
  }

  #request(request: Readonly<Record<string, unknown>>): Promise<readonly string[]> {
    const result = this.#queue.then(() => this.#exchange(request));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #exchange(request: Readonly<Record<string, unknown>>): Promise<readonly string[]> {
    const exchange = await this.#socket.exchange(encodeRequest(request), this.#timeoutMs);
    if (exchange.kind === "no-reply") throw new FaultControlError(`the forwarder's control socket ${this.endpoint} did not answer within ${this.#timeoutMs} ms`);
    if (exchange.kind === "bad-endpoint") throw new FaultControlError(`cannot connect to ${this.endpoint}: ${exchange.problem}`);
    const reply = decodeReply(exchange.frames);
    if (typeof reply === "string") throw new FaultControlError(`the forwarder's control reply is malformed: ${reply}`);
    if (!reply.ok) throw new FaultControlError(`the forwarder refused ${String(request.op)}: ${String(reply.message)}`);
    const rules = reply.rules;
    if (!Array.isArray(rules) || !rules.every((line) => typeof line === "string")) throw new FaultControlError("the forwarder's control reply has no rules list");
    return rules as string[];
  }
}
