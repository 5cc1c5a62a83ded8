import type { Event, Router } from "zeromq";
import { assert } from "../base/assert.ts";
import type { Logger } from "../base/logger.ts";
import { decodeCurveKey, z85Encode } from "../config/curve-keys.ts";
import { LogThrottle } from "../logging/log-throttle.ts";
import type { CurveServerSecurity } from "../net/curve-security.ts";
import { describeHandshakeFailure, handshakeFailureKind } from "../net/handshake-failure.ts";
import { receiveUntilClosed } from "../net/receive-loop.ts";
import { SocketOutbox } from "../net/socket-outbox.ts";
import { clientFrameBytesMax, clientRequestBytesMax, connectionRequestsMax, createClientRouter, watchSocketEvents } from "../net/sockets.ts";
import { ZapHandler, type ZapRefusal } from "../net/zap-handler.ts";

// For the server process, which reaches sockets only through this folder (docs/architecture.md §1).
export { CurveUnavailableError } from "../net/curve-security.ts";

/**
 * Where the reply to one request goes. Opaque to the server: it passes the
 * handle back to ClientEndpoint.reply() exactly once.
 */
export interface ReplyHandle {
  /** Numbers requests in arrival order, for logs and for keying pending work. */
  readonly requestNumber: number;
}

/** One client request, as received. */
export interface ClientRequest {
  readonly replyTo: ReplyHandle;
  /** The body frames after the envelope (docs/protocol.md §6 expects exactly one; the service checks). */
  readonly frames: readonly Buffer[];
  /**
   * More requests than `pendingRequestsMax` await their replies, more than
   * `connectionRequestsMax` from this request's connection, or more than
   * `pendingRequestBytesMax` bytes of them, this one included: the server
   * should answer it at once instead of taking on work.
   */
  readonly overLimit: boolean;
}

export interface ClientEndpointOptions {
  /** The server's `client` endpoint from the cluster config, e.g. "tcp://127.0.0.1:5000". */
  readonly endpoint: string;
  readonly logger: Logger;
  readonly pendingRequestsMax: number;
  /** The body bytes of the requests awaiting replies past which requests are `overLimit` (default pendingRequestBytesMaxDefault). */
  readonly pendingRequestBytesMax?: number;
  /** CURVE on the endpoint (docs/protocol.md §10); plaintext when absent. */
  readonly curve?: ClientEndpointCurve;
}

/** The endpoint's side of CURVE: the cluster's secret key, and whom it admits. */
export interface ClientEndpointCurve {
  /** The cluster's secret key (Z85): a client must know the matching public key to finish the handshake. */
  readonly secretKey: string;
  /**
   * The public keys (Z85) of the clients admitted; any other client gets no
   * answer at all and is logged. Absent: any client that knows the cluster's
   * public key is admitted.
   */
  readonly clientKeys?: readonly string[];
}

/** The ZAP domain of client endpoints, checked against `curve.clients`. */
const clientZapDomain = "zraft-clients";

/** The client endpoint could not be bound: the address is in use, malformed, or not local. */
export class EndpointBindError extends Error {
  override readonly name = "EndpointBindError";
  constructor(
    readonly endpoint: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot bind the client endpoint ${endpoint}: ${reason}${/in use/i.test(reason) ? " (is another server running there?)" : ""}`, {
      cause,
    });
  }
}

const emptyFrame = new Uint8Array(0);

/**
 * The default of `pendingRequestBytesMax`. A count alone does not bound the
 * memory that requests in progress hold: 20,000 writes of 1 MiB values
 * (docs/protocol.md §6) would be 20 GiB. 256 MiB still takes 32 requests of
 * the 8 MiB a server must answer, or 250 of 1 MiB values, at once.
 */
export const pendingRequestBytesMaxDefault = 256 * 2 ** 20;

/** Where one request's reply goes, and what it weighs until then. */
interface PendingEntry {
  readonly routingId: Buffer;
  readonly bytes: number;
}

/**
 * A server's client endpoint (docs/protocol.md §3): a ROUTER socket that REQ
 * clients, and DEALER clients that add the empty delimiter frame, connect to.
 * Every message arrives as [routing id, empty delimiter, body frames...] and
 * its reply leaves as [routing id, empty delimiter, reply]. Requests are
 * handed over as they arrive and replies go out through a queue, so no
 * client, however slow, holds up another (ZeroMQ Guide ch. 3, the
 * asynchronous server).
 */
export class ClientEndpoint {
  /** The address actually bound (differs from the config for a port 0 or a wildcard). */
  readonly endpoint: string;
  readonly pendingRequestsMax: number;
  readonly pendingRequestBytesMax: number;

  private readonly router: Router;
  private readonly throttle: LogThrottle;
  private readonly eventWatch: Promise<void>;
  /** Each request that has not been replied to yet. */
  private readonly pending = new Map<ReplyHandle, PendingEntry>();
  /** The body bytes of the requests in `pending`. */
  private pendingBytes = 0;
  /** Requests not yet replied to, per connection (by routing id, as hex). */
  private readonly pendingByConnection = new Map<string, number>();
  private readonly outbox: SocketOutbox;
  private requestCount = 0;
  private listening = false;
  private closed = false;

  /** Admits only the clients of `curve.clientKeys`; absent when any client may connect. */
  private readonly zap: ZapHandler | undefined;
  private readonly logger: Logger;

  private constructor(router: Router, options: ClientEndpointOptions, throttle: LogThrottle, zap: ZapHandler | undefined) {
    this.router = router;
    this.endpoint = router.lastEndpoint ?? options.endpoint;
    this.throttle = throttle;
    this.zap = zap;
    this.logger = options.logger;
    this.pendingRequestsMax = options.pendingRequestsMax;
    this.pendingRequestBytesMax = options.pendingRequestBytesMax ?? pendingRequestBytesMaxDefault;
    this.eventWatch = watchSocketEvents(router, (event) => this.logEvent(event));
    // A ROUTER never waits to send: it drops what it cannot deliver at once (mandatory is off).
    this.outbox = new SocketOutbox(
      (frames) => this.router.send(frames),
      (error) => this.throttle.warn("reply failed", `sending a reply failed: ${String(error)}`),
    );
  }

  /**
   * Binds the endpoint; with `curve.clientKeys`, first starts this process's
   * ZAP handler, which admits those clients only.
   * @throws EndpointBindError when it cannot be bound (port in use, bad address)
   * @throws CurveUnavailableError when `curve` is given and libzmq cannot honour it
   * @throws ZapHandlerError when another ZAP handler runs in this process
   */
  static async open(options: ClientEndpointOptions): Promise<ClientEndpoint> {
    assert(Number.isInteger(options.pendingRequestsMax) && options.pendingRequestsMax > 0, "pendingRequestsMax must be a positive integer");
    const bytesMax = options.pendingRequestBytesMax;
    assert(bytesMax === undefined || (Number.isInteger(bytesMax) && bytesMax > 0), "pendingRequestBytesMax must be a positive integer");
    const throttle = new LogThrottle(options.logger);
    const clientKeys = options.curve?.clientKeys;
    const zap = clientKeys === undefined ? undefined : await startClientZap(clientKeys, throttle, options.logger);
    const security: CurveServerSecurity | undefined =
      options.curve === undefined
        ? undefined
        : { role: "server", secretKey: options.curve.secretKey, ...(zap === undefined ? {} : { zapDomain: clientZapDomain }) };
    let router: Router;
    try {
      router = createClientRouter(security);
    } catch (error) {
      await zap?.close();
      throw error;
    }
    try {
      await router.bind(options.endpoint);
    } catch (error) {
      router.close();
      await zap?.close();
      throw new EndpointBindError(options.endpoint, error);
    }
    return new ClientEndpoint(router, options, throttle, zap);
  }

  /** Requests received and not yet replied to. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** The body bytes of the requests received and not yet replied to. */
  get pendingRequestBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Hands each well-formed request to `handler` as it arrives, until
   * close(); resolves then. The handler must not block: it answers later
   * through reply(). Malformed envelopes and requests over
   * clientRequestBytesMax are dropped here, unanswered, with a warning.
   * If `handler` throws, that is a bug in the caller: the loop stops and the
   * promise rejects with that error. One listener per endpoint.
   */
  async listen(handler: (request: ClientRequest) => void): Promise<void> {
    assert(!this.listening, "ClientEndpoint.listen() called twice");
    this.listening = true;
    await Promise.all([
      receiveUntilClosed(
        () => this.router.receive(),
        () => this.closed,
        (frames) => {
          const request = this.accept(frames);
          if (request !== null) handler(request);
        },
      ),
      // A failed ZAP handler admits no one any more: fail loudly rather than go on deaf.
      this.zap?.done,
    ]);
  }

  /**
   * Queues the reply to one request and returns at once. A reply to a client
   * that has gone away is dropped by ZeroMQ.
   */
  reply(handle: ReplyHandle, reply: Uint8Array): void {
    const entry = this.pending.get(handle);
    assert(entry !== undefined, `request ${handle.requestNumber} was already answered, or is not from this endpoint`);
    this.pending.delete(handle);
    this.pendingBytes -= entry.bytes;
    const { routingId } = entry;
    const connection = routingId.toString("hex");
    const remaining = (this.pendingByConnection.get(connection) ?? 1) - 1;
    if (remaining === 0) this.pendingByConnection.delete(connection);
    else this.pendingByConnection.set(connection, remaining);
    if (this.closed) return;
    this.outbox.push([routingId, emptyFrame, reply]);
  }

  /**
   * Stops receiving, sends the replies already queued (the socket's linger
   * gives them a moment to leave), and closes the socket.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.outbox.close(true);
    this.router.close();
    await this.zap?.close();
    await this.eventWatch;
  }

  private accept(frames: Buffer[]): ClientRequest | null {
    // The ROUTER always prepends the routing id; the rest is up to the client.
    const [routingId, delimiter] = frames;
    if (routingId === undefined || delimiter === undefined || delimiter.length !== 0) {
      this.throttle.warn(
        "no delimiter",
        "dropped a client message without the empty delimiter frame before its body (a DEALER client must send one)",
        { frames: frames.length },
      );
      return null;
    }
    if (frames.length === 2) {
      this.throttle.warn("no body", "dropped a client message with an envelope but no body frame");
      return null;
    }
    const body = frames.slice(2);
    const bytes = body.reduce((total, frame) => total + frame.length, 0);
    if (bytes > clientRequestBytesMax) {
      this.throttle.warn("request too large", `dropped a request of ${bytes} bytes unanswered: over the ${clientRequestBytesMax}-byte limit`, {
        bytes,
        limit: clientRequestBytesMax,
      });
      return null;
    }
    const replyTo: ReplyHandle = Object.freeze({ requestNumber: ++this.requestCount });
    this.pending.set(replyTo, { routingId, bytes });
    this.pendingBytes += bytes;
    const connection = routingId.toString("hex");
    const fromConnection = (this.pendingByConnection.get(connection) ?? 0) + 1;
    this.pendingByConnection.set(connection, fromConnection);
    const overLimit = this.pending.size > this.pendingRequestsMax || fromConnection > connectionRequestsMax || this.pendingBytes > this.pendingRequestBytesMax;
    return { replyTo, frames: body, overLimit };
  }

  private logEvent(event: Event): void {
    switch (event.type) {
      case "disconnect":
        // Routine (every one-shot client closes its connection), so debug. But libzmq reports a frame over
        // clientFrameBytesMax, which it drops unanswered, only as this disconnect, and docs/protocol.md §6 asks
        // that such a request be logged: the line names that possibility too.
        this.throttle.debug(
          "client disconnected",
          `a client connection closed (by the client, or by this server after a frame over ${clientFrameBytesMax / 2 ** 20} MiB, dropped unanswered)`,
        );
        return;
      case "accept:error":
        this.throttle.warn("accept failed", `accepting a client connection failed: ${event.error.message}`);
        return;
      case "handshake:error:auth":
        // The ZAP handler has already logged this refusal, with the client's address and key.
        this.logger.debug(`a client was refused on ${event.address}: ${describeHandshakeFailure(event, "accepted")}`);
        return;
      case "handshake:error:protocol":
      case "handshake:error:other":
        // docs/protocol.md §10: such a client gets no answer at all; this line is the only trace.
        this.throttle.warn(
          `client handshake ${handshakeFailureKind(event)}`,
          `refused a client on ${event.address}, whose handshake failed: ${describeHandshakeFailure(event, "accepted")}`,
        );
        return;
      default:
        // accept, handshake, bind, close: routine.
        return;
    }
  }
}

/** Starts the ZAP handler that admits the clients of `clientKeys` (Z85, validated with the config) and logs the others. */
async function startClientZap(clientKeys: readonly string[], throttle: LogThrottle, logger: Logger): Promise<ZapHandler> {
  const keys = clientKeys.map((key) => {
    const bytes = decodeCurveKey(key);
    assert(typeof bytes !== "string", `curve.clients holds a key that is not Z85 (${key}): the config check should have refused it`);
    return bytes;
  });
  return ZapHandler.start({
    admissions: new Map([[clientZapDomain, keys]]),
    onRefused: (refusal: ZapRefusal) => {
      const key = refusal.clientKey === undefined ? "(none)" : z85Encode(refusal.clientKey);
      throttle.warn("client refused", `refused a client at ${refusal.address || "(unknown address)"} with public key ${key}: ${refusal.reason} (curve.clients)`, {
        address: refusal.address,
        clientKey: key,
      });
    },
    onAdmitted: (request) => {
      logger.debug(`admitted a client at ${request.address} with public key ${request.clientKey === undefined ? "(none)" : z85Encode(request.clientKey)}`);
    },
  });
}
