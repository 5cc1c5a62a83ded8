import { Reply } from "zeromq";

/**
 * The ZeroMQ authentication protocol (ZAP, ZeroMQ RFC 27) handler of this
 * process: libzmq asks it, over inproc, whether to admit each peer that
 * completed a CURVE handshake with a socket that has a ZAP domain, and waits
 * for the answer before the connection carries any message
 * (docs/protocol.md §10). Only one handler can run per process (libzmq's
 * fixed endpoint), so a process that needs several rules gives each its own
 * domain.
 */

/** Where libzmq sends ZAP requests: fixed by ZeroMQ RFC 27. */
export const zapEndpoint = "inproc://zeromq.zap.01";

/** One peer asking to be admitted, as libzmq describes it. */
export interface ZapRequest {
  /** The ZAP domain of the socket the peer connected to. */
  readonly domain: string;
  /** The peer's network address as libzmq gives it (an IP address without port for TCP). */
  readonly address: string;
  /** "CURVE", "NULL", "PLAIN" … */
  readonly mechanism: string;
  /** The peer's long-term CURVE public key: 32 bytes, when the mechanism is CURVE and the request well-formed. */
  readonly clientKey: Uint8Array | undefined;
}

/** A peer that was refused, and why, in words for the log. */
export interface ZapRefusal extends ZapRequest {
  readonly reason: string;
}

/** What the handler answers one request, and why. */
export interface ZapDecision {
  readonly reply: readonly (string | Uint8Array)[];
  /** The request, when it was well-formed enough to describe. */
  readonly request: ZapRequest | undefined;
  readonly admitted: boolean;
  /** Why it was refused; "" when admitted. */
  readonly reason: string;
}

/** The client public keys (32 bytes each) admitted in each ZAP domain. A domain not listed admits no one. */
export type ZapAdmissions = ReadonlyMap<string, readonly Uint8Array[]>;

const zapVersion = "1.0";
const curveKeyBytes = 32;

const text = (frame: Uint8Array | undefined): string => (frame === undefined ? "" : Buffer.from(frame).toString("utf8"));

/**
 * Decides one ZAP request (its frames as received) against `admissions`:
 * 200 for a CURVE peer whose key the domain lists, 400 for any other peer,
 * 500 for a request that breaks RFC 27 (libzmq never sends one; anything
 * else on this endpoint is refused all the same).
 */
export function decideZapRequest(frames: readonly Uint8Array[], admissions: ZapAdmissions): ZapDecision {
  const requestId = frames[1] ?? new Uint8Array(0);
  const answer = (status: "200" | "400" | "500", statusText: string): ZapDecision["reply"] => [zapVersion, requestId, status, statusText, "", new Uint8Array(0)];
  if (frames.length < 6 || text(frames[0]) !== zapVersion) {
    const reason = `malformed ZAP request (${frames.length} frames, version ${JSON.stringify(text(frames[0]).slice(0, 16))})`;
    return { reply: answer("500", "malformed request"), request: undefined, admitted: false, reason };
  }
  const mechanism = text(frames[5]);
  const credentials = frames.slice(6);
  const key = frames[6];
  const request: ZapRequest = {
    domain: text(frames[2]),
    address: text(frames[3]),
    mechanism,
    clientKey: mechanism === "CURVE" && credentials.length === 1 && key?.length === curveKeyBytes ? Uint8Array.from(key) : undefined,
  };
  const refuse = (reason: string): ZapDecision => ({ reply: answer("400", "not admitted"), request, admitted: false, reason });
  const keys = admissions.get(request.domain);
  if (keys === undefined) return refuse(`no peer is admitted in ZAP domain ${JSON.stringify(request.domain)}`);
  if (mechanism !== "CURVE") return refuse(`the peer uses the ${mechanism} mechanism, not CURVE`);
  if (request.clientKey === undefined) return refuse("the peer's CURVE credentials are not one 32-byte key");
  const clientKey = request.clientKey;
  if (!keys.some((allowed) => Buffer.from(allowed).equals(clientKey))) return refuse("its public key is not admitted");
  return { reply: answer("200", "OK"), request, admitted: true, reason: "" };
}

export interface ZapHandlerOptions {
  readonly admissions: ZapAdmissions;
  /** Called for each refusal; the caller logs it (throttled), with the peer's address and key. */
  readonly onRefused: (refusal: ZapRefusal) => void;
  /** Called for each admission (for debug logs). */
  readonly onAdmitted?: (request: ZapRequest) => void;
}

/** The ZAP endpoint is taken: another handler runs in this process. */
export class ZapHandlerError extends Error {
  override readonly name = "ZapHandlerError";
}

/** Answers ZAP requests until closed. Start it before the sockets it guards bind, close it after they close. */
export class ZapHandler {
  /** Resolves after close(); rejects if the handler fails (or a callback throws): the caller should stop then. */
  readonly done: Promise<void>;
  #closed = false;

  private constructor(
    private readonly socket: Reply,
    private readonly options: ZapHandlerOptions,
  ) {
    this.done = this.#serve();
  }

  /** @throws ZapHandlerError when a handler already runs in this process */
  static async start(options: ZapHandlerOptions): Promise<ZapHandler> {
    // linger 0: an answer nobody waits for any more is worthless.
    const socket = new Reply({ linger: 0 });
    try {
      await socket.bind(zapEndpoint);
    } catch (error) {
      socket.close();
      throw new ZapHandlerError(`cannot start the ZAP handler at ${zapEndpoint}: ${(error as Error).message}`, { cause: error });
    }
    return new ZapHandler(socket, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.close();
    await this.done;
  }

  async #serve(): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.socket.receive();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
      const decision = decideZapRequest(frames, this.options.admissions);
      try {
        // A REP socket must answer before it may receive again.
        await this.socket.send([...decision.reply]);
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
      if (decision.admitted && decision.request !== undefined) this.options.onAdmitted?.(decision.request);
      if (!decision.admitted) {
        const request = decision.request ?? { domain: "", address: "", mechanism: "", clientKey: undefined };
        this.options.onRefused({ ...request, reason: decision.reason });
      }
    }
  }
}
