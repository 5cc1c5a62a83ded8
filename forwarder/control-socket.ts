/**
 * The forwarder's fault-injection control socket, for testing only
 * (docs/protocol.md §11): a REP socket that takes the requests of
 * control-protocol.ts one at a time, applies each valid one to the
 * relay's FaultRules, and logs every change at info, since an operator
 * reading the log must be able to tell that messages were dropped on
 * purpose.
 */
import { Reply } from "zeromq";
import { encodeControlReply, parseControlRequest, type ControlReply, type ControlRequest } from "./control-protocol.ts";
import { describeFaultState, type FaultRules } from "./fault-rules.ts";

/** What the control socket logs with. */
export interface ControlLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * The REP socket, made here rather than in src/net/sockets.ts because only
 * the forwarder has one. Oversized requests are let through to the parser
 * (up to 64 KiB) so that they get a BAD_REQUEST reply instead of a dropped
 * connection.
 */
function createControlReply(): Reply {
  return new Reply({ linger: 0, maxMessageSize: 64 * 1024, sendHighWaterMark: 16, receiveHighWaterMark: 16 });
}

/**
 * Applies a valid request to `rules`; returns the line to log, or undefined
 * when nothing changed.
 */
export function applyControlRequest(rules: FaultRules, request: ControlRequest): string | undefined {
  switch (request.op) {
    case "drop":
      rules.addDrop({ kind: "drop", from: request.from, to: request.to });
      if (!request.oneWay) rules.addDrop({ kind: "drop", from: request.to, to: request.from });
      return `drop ${request.from.join(",")} ${request.oneWay ? "->" : "<->"} ${request.to.join(",")}`;
    case "isolate":
      rules.addDrop({ kind: "isolate", server: request.server });
      return `isolate server ${request.server}`;
    case "loss":
      rules.setLoss(request.fraction, request.seed);
      return request.fraction > 0 ? `loss ${request.fraction} (seed ${request.seed})` : "loss off";
    case "delay":
      rules.setDelay(request.ms, request.jitterMs);
      return request.ms > 0 || request.jitterMs > 0 ? `delay ${request.ms} ms + up to ${request.jitterMs} ms` : "delay off";
    case "clear":
      rules.clear();
      return "cleared";
    case "rules":
      return undefined;
  }
}

export class ControlSocket {
  readonly #socket = createControlReply();
  #stopping = false;

  private constructor(
    private readonly rules: FaultRules,
    private readonly serverIds: readonly number[],
  ) {}

  /** Binds `endpoint`; throws an Error naming it when that fails. Answers nothing before `run`. */
  static async bind(endpoint: string, rules: FaultRules, serverIds: readonly number[]): Promise<ControlSocket> {
    const control = new ControlSocket(rules, serverIds);
    try {
      await control.#socket.bind(endpoint);
    } catch (error) {
      control.#socket.close();
      throw new Error(`cannot bind the control endpoint ${endpoint} (--control): ${(error as Error).message}`, { cause: error });
    }
    return control;
  }

  /** Answers requests until `stop`, logging every change with `log`; resolves then. */
  async run(log: ControlLog): Promise<void> {
    try {
      for await (const frames of this.#socket) await this.#socket.send(this.#answer(frames, log));
    } catch (error) {
      // Closing the socket interrupts a pending receive or send: that is how we stop.
      if (!this.#stopping) throw error;
    }
  }

  stop(): void {
    this.#stopping = true;
    this.#socket.close();
  }

  #answer(frames: readonly Buffer[], log: ControlLog): Buffer {
    const parsed = parseControlRequest(frames, this.serverIds);
    let reply: ControlReply;
    if (parsed.ok) {
      const change = applyControlRequest(this.rules, parsed.request);
      const inForce = describeFaultState(this.rules.state);
      if (change !== undefined) log.info(`fault rules: ${change}; in force: ${inForce.length === 0 ? "none" : inForce.join("; ")}`);
      reply = { ok: true, op: parsed.request.op, rules: inForce };
    } else {
      log.warn(`fault control request refused: ${parsed.message}`);
      reply = { ok: false, error: "BAD_REQUEST", message: parsed.message };
    }
    return encodeControlReply(reply, parsed.format);
  }
}
