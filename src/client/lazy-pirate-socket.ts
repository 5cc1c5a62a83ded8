import type { Request } from "zeromq";
import { CurveUnavailableError, type CurveClientKeys } from "../net/curve-security.ts";
import { createClientRequest } from "../net/sockets.ts";

/** What one request/reply exchange came to. */
export type Exchange =
  | { readonly kind: "reply"; readonly frames: Buffer[] }
  /** No reply in time: the server is down, slow or unreachable. */
  | { readonly kind: "no-reply" }
  /** The endpoint cannot even be connected to (malformed, unknown protocol). */
  | { readonly kind: "bad-endpoint"; readonly problem: string };

/**
 * A REQ socket used the Lazy Pirate way (ZeroMQ Guide, chapter 4): wait for
 * the reply with a timeout, and after a timeout throw the socket away, since
 * a REQ socket whose reply was lost can neither send nor receive again. The
 * next exchange opens a fresh one. One exchange at a time.
 */
export class LazyPirateSocket {
  #socket: Request | undefined;
  #closed = false;

  /** `curve`: the keys for a CURVE handshake with the server (docs/protocol.md §10); plaintext when absent. */
  constructor(
    readonly endpoint: string,
    private readonly curve?: CurveClientKeys,
  ) {}

  /**
   * Sends one message and waits up to `timeoutMs` for its reply. A server
   * that refuses this client's keys looks like one that does not answer: CURVE
   * tells the refused side nothing (docs/protocol.md §10).
   * @throws Error when the socket is closed during or before the exchange
   * @throws CurveUnavailableError when libzmq cannot honour `curve`
   */
  async exchange(message: Buffer, timeoutMs: number): Promise<Exchange> {
    if (this.#closed) throw new Error(`the connection to ${this.endpoint} is closed`);
    let socket: Request;
    try {
      socket = this.#open();
    } catch (error) {
      if (error instanceof CurveUnavailableError) throw error;
      return { kind: "bad-endpoint", problem: (error as Error).message };
    }
    socket.sendTimeout = timeoutMs;
    socket.receiveTimeout = timeoutMs;
    try {
      await socket.send(message);
      return { kind: "reply", frames: await socket.receive() };
    } catch (error) {
      if (this.#closed) throw new Error(`the connection to ${this.endpoint} was closed`, { cause: error });
      if ((error as { code?: unknown }).code !== "EAGAIN") throw error;
      this.#discard();
      return { kind: "no-reply" };
    }
  }

  /** Closes the socket; a pending exchange rejects. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#discard();
  }

  #open(): Request {
    if (this.#socket === undefined) {
      // A CURVE setting libzmq refuses is not a bad endpoint: exchange() rethrows it rather than try another server.
      const socket = createClientRequest(this.curve === undefined ? undefined : { role: "client", ...this.curve });
      try {
        socket.connect(this.endpoint);
      } catch (error) {
        socket.close();
        throw error;
      }
      this.#socket = socket;
    }
    return this.#socket;
  }

  #discard(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }
}
