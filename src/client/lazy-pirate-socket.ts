import { setTimeout as sleep } from "node:timers/promises";
import { context, type Event, type Request } from "zeromq";
import { CurveUnavailableError, type CurveClientKeys } from "../net/curve-security.ts";
import { createClientRequest, watchSocketEvents } from "../net/sockets.ts";

/** What one request/reply exchange came to. */
export type Exchange =
  | { readonly kind: "reply"; readonly frames: Buffer[] }
  /**
   * No reply: `timeout` when none came in time (the server is down, slow,
   * hung or unreachable); `disconnected` when the server dropped the
   * connection while the request was outstanding, or, having dropped it,
   * still refuses to be connected to. Either way the request may have
   * reached the server. `refused` (only with `refusalEndsExchange`): the
   * connection was refused, nothing listens at the endpoint, so the request
   * never left this process.
   */
  | { readonly kind: "no-reply"; readonly cause: "timeout" | "disconnected" | "refused" }
  /** The endpoint cannot even be connected to (malformed, unknown protocol). */
  | { readonly kind: "bad-endpoint"; readonly problem: string };

/**
 * This process cannot open one more ZeroMQ socket: its context's limit
 * (`context.maxSockets` of the zeromq package, 1023 unless raised before
 * the first socket) or its open-files limit is reached. Each ZraftClient
 * holds two sockets while it talks to a server: its REQ socket and the
 * monitor that watches it.
 */
export class SocketLimitError extends Error {
  override readonly name = "SocketLimitError";
  constructor(cause: unknown) {
    super(
      `cannot open a ZeroMQ socket: this process has reached its limit of ZeroMQ sockets (context.maxSockets, now ${context.maxSockets}; ` +
        "each client holds two) or of open files (ulimit -n) (EMFILE)",
      { cause },
    );
  }
}

/** How long a reply may still be read after its connection was seen lost (see exchange()). */
const lateReplyGraceMs = 20;

/**
 * A REQ socket used the Lazy Pirate way (ZeroMQ Guide, chapter 4; docs/protocol.md
 * §9): wait for the reply with a timeout, and after a timeout throw the socket
 * away, since a REQ socket whose reply was lost can neither send nor receive
 * again. The next exchange opens a fresh one. One exchange at a time.
 *
 * It also watches its socket's connection events (one monitor per socket,
 * which ends when the socket closes), so that a server that is gone is
 * noticed at once instead of after the timeout: a server killed outright has
 * its TCP connections reset by its kernel, and ZeroMQ reports `disconnect`.
 * Only a connection that had been established counts (its handshake
 * succeeded): ZeroMQ also reports `disconnect` for one whose handshake failed,
 * such as a CURVE refusal, which must keep looking like silence
 * (docs/protocol.md §10). A server that hangs (SIGSTOP) keeps its connections
 * open and is still noticed only by the timeout.
 *
 * A server that is not running at all refuses the connection. ZeroMQ then
 * retries it quietly every so often and reports only `connect:retry`; with
 * `refusalEndsExchange` a retry that follows no TCP connection at all ends
 * the exchange as `refused` at once (a CURVE refusal always connects first,
 * so it still looks like silence).
 */
export class LazyPirateSocket {
  static #monitorsRunning = 0;

  /** How many socket monitors of all LazyPirateSockets are running: one per open socket, for tests of leaks. */
  static get monitorsRunning(): number {
    return LazyPirateSocket.#monitorsRunning;
  }

  #socket: Request | undefined;
  /** Whether the current socket's connection has completed its handshake and not been lost since. */
  #established = false;
  /** Whether the current socket made a TCP connection since ZeroMQ last scheduled a retry: a retry without one is a refusal. */
  #connectedSinceRetry = false;
  /**
   * Whether the server dropped an established connection and none has been
   * established since. Kept across sockets: it is what the server did, and
   * it lets a reconnection that is refused end an exchange at once.
   */
  #dropped = false;
  /** Ends the exchange in progress with this cause; set only while one is. */
  #onLost: ((cause: "disconnected" | "refused") => void) | undefined;
  readonly #refusalEndsExchange: boolean;
  #closed = false;

  /**
   * `curve`: the keys for a CURVE handshake with the server (docs/protocol.md §10); plaintext when absent.
   * `dropped`: an earlier socket to this endpoint saw the server drop its connection (see `dropped`), so
   * that a refused connection now ends an exchange at once.
   * `refusalEndsExchange`: a refused connection ends an exchange at once as `refused`, for a client that
   * fails over to another server (docs/protocol.md §9). Without it a refusal is waited out to the timeout,
   * for a caller that waits for a process still starting.
   */
  constructor(
    readonly endpoint: string,
    private readonly curve?: CurveClientKeys,
    options: { readonly dropped?: boolean; readonly refusalEndsExchange?: boolean } = {},
  ) {
    this.#dropped = options.dropped ?? false;
    this.#refusalEndsExchange = options.refusalEndsExchange ?? false;
  }

  /** Whether the server dropped an established connection and none has been established since. */
  get dropped(): boolean {
    return this.#dropped;
  }

  /**
   * Sends one message and waits up to `timeoutMs` for its reply, or until
   * the server drops the connection. A server that refuses this client's
   * keys looks like one that does not answer: CURVE tells the refused side
   * nothing (docs/protocol.md §10).
   * @throws Error when the socket is closed during or before the exchange
   * @throws CurveUnavailableError when libzmq cannot honour `curve`
   * @throws SocketLimitError when this process cannot open one more socket
   */
  async exchange(message: Buffer, timeoutMs: number): Promise<Exchange> {
    if (this.#closed) throw new Error(`the connection to ${this.endpoint} is closed`);
    // A socket whose server went away while it was idle would reconnect only when its reconnect
    // timer says (up to seconds later); a fresh one connects at once, and its refusal shows that
    // the server is still gone.
    if (this.#dropped) this.#discard();
    let socket: Request;
    try {
      socket = this.#open();
    } catch (error) {
      if (error instanceof CurveUnavailableError) throw error;
      // This process's limit, not the server's fault: failing over would blame every server in turn until the deadline.
      if ((error as { code?: unknown }).code === "EMFILE") throw new SocketLimitError(error);
      return { kind: "bad-endpoint", problem: (error as Error).message };
    }
    socket.sendTimeout = timeoutMs;
    socket.receiveTimeout = timeoutMs;
    const lost = new Promise<{ readonly lost: "disconnected" | "refused" }>((resolve) => {
      this.#onLost = (cause) => resolve({ lost: cause });
    });
    const exchanged = (async () => {
      await socket.send(message);
      return socket.receive();
    })();
    // When the connection is lost first, closing the socket rejects the send or receive: nobody waits for it any more.
    exchanged.catch(() => undefined);
    try {
      const outcome = await Promise.race([exchanged, lost]);
      if ("lost" in outcome && outcome.lost === "disconnected") {
        // The connection's events and its messages arrive by different paths: a server that answers, then
        // stops (admin shutdown, docs/protocol.md §4), may be seen gone just before its reply is read.
        const late = await Promise.race([exchanged.catch(() => undefined), sleep(lateReplyGraceMs)]);
        if (late !== undefined) return { kind: "reply", frames: late };
      }
      if ("lost" in outcome) {
        // Mid-request, a REQ socket cannot send again before it receives: throw it away (Lazy Pirate).
        // Refused, it would deliver the queued request whenever the server came up: throw it away too.
        this.#discard();
        return { kind: "no-reply", cause: outcome.lost };
      }
      return { kind: "reply", frames: outcome };
    } catch (error) {
      if (this.#closed) throw new Error(`the connection to ${this.endpoint} was closed`, { cause: error });
      if ((error as { code?: unknown }).code !== "EAGAIN") throw error;
      this.#discard();
      return { kind: "no-reply", cause: "timeout" };
    } finally {
      this.#onLost = undefined;
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
      // Watched before it connects, so that no event of its connection is missed; the watch ends when the socket closes.
      LazyPirateSocket.#monitorsRunning += 1;
      watchSocketEvents(socket, (event) => this.#onEvent(socket, event))
        .catch(() => {
          // The monitor failed: this socket's losses are noticed by the timeout alone.
        })
        .finally(() => {
          LazyPirateSocket.#monitorsRunning -= 1;
        });
      try {
        socket.connect(this.endpoint);
      } catch (error) {
        socket.close();
        throw error;
      }
      this.#socket = socket;
      this.#established = false;
      this.#connectedSinceRetry = false;
    }
    return this.#socket;
  }

  #onEvent(socket: Request, event: Event): void {
    // Events of a socket already thrown away say nothing about the current one.
    if (socket !== this.#socket) return;
    switch (event.type) {
      case "connect":
        this.#connectedSinceRetry = true;
        return;
      case "handshake":
        this.#established = true;
        this.#dropped = false;
        return;
      case "disconnect":
        // Also reported for a connection whose handshake failed (a CURVE refusal): that is not a server going away.
        if (!this.#established) return;
        this.#established = false;
        this.#dropped = true;
        this.#onLost?.("disconnected");
        return;
      case "connect:retry": {
        // Reported when ZeroMQ schedules the next attempt: after a refused one (no TCP connection since the
        // last retry), and after a connection that was lost (a drop, a failed handshake).
        const refused = !this.#connectedSinceRetry;
        this.#connectedSinceRetry = false;
        // A reconnection after a drop failed: the server is still gone.
        if (this.#dropped) this.#onLost?.("disconnected");
        else if (refused && this.#refusalEndsExchange) this.#onLost?.("refused");
        return;
      }
      default:
        // connect:delay, close (of a refused attempt, followed by connect:retry), handshake errors: nothing to do.
        return;
    }
  }

  #discard(): void {
    this.#socket?.close();
    this.#socket = undefined;
    this.#established = false;
  }
}
