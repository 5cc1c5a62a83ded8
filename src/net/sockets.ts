import { Publisher, Request, Router, Subscriber, XPublisher, XSubscriber, type Event, type Socket } from "zeromq";
import { applyCurve, type CurveClientSecurity, type CurveServerSecurity } from "./curve-security.ts";

/**
 * Every ZeroMQ socket of the project is made here, with each option that
 * matters set explicitly rather than left to library defaults, so that limits
 * can be read in one place, and so that encryption (CURVE, docs/protocol.md
 * §10) is set on every socket the same way: each factory takes the socket's
 * CURVE role, and makes a plaintext socket only when given none.
 */

/**
 * `socket` with CURVE set when `security` is given; closed, and the error
 * rethrown, when libzmq cannot honour it (CurveUnavailableError).
 */
function secured<S extends Socket>(socket: S, security: CurveServerSecurity | CurveClientSecurity | undefined): S {
  if (security === undefined) return socket;
  try {
    applyCurve(socket, security);
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}

const kib = 1024;
const mib = 1024 * kib;

/**
 * The largest peer message accepted off the bus. The biggest legitimate one
 * is an AppendEntries of up to bytesPerAppendMax (4 MiB) of entries, or a
 * single entry holding a 1 MiB value with its key, plus framing. libzmq
 * closes the connection of a peer that sends more; it reconnects at once.
 */
export const peerMessageBytesMax = 16 * mib;

/**
 * The largest client request served, all body frames together. docs/protocol.md
 * §6: a request of up to 8 MiB still gets its BAD_REQUEST reply; the 64 KiB
 * of slack keeps the boundary clear of framing. ClientEndpoint drops a larger
 * request unanswered and logs its size.
 */
export const clientRequestBytesMax = 8 * mib + 64 * kib;

/**
 * The largest frame libzmq accepts from a client. It checks the frame header
 * before allocating and closes the connection of a client that sends more,
 * which the application cannot tell apart from a client closing (ClientEndpoint
 * logs both). Frames between clientRequestBytesMax and this are received and
 * dropped by ClientEndpoint instead, so that the usual oversized request is
 * logged with its size.
 */
export const clientFrameBytesMax = 16 * mib;

/**
 * The largest reply a client accepts: a `list` reply may hold much of the
 * store, but nothing absurd is allocated on a server's say-so.
 */
export const clientReplyBytesMax = 256 * mib;

/** Subscriptions are the only thing that flows towards a publisher; they are a few bytes. */
const subscriptionBytesMax = 64 * kib;

/**
 * Messages queued per connection on the Raft bus before ZeroMQ drops them
 * (PUB, XPUB, SUB) or stops reading (XSUB). A drop is repaired by Raft's
 * retries; the queue is only full when a process has stalled.
 */
const peerHighWaterMarkMessages = 10_000;

/**
 * Per client connection: a REQ client has one request outstanding, a DEALER
 * client may pipeline some. Past the receive mark libzmq stops reading from
 * that client (its own backpressure); it is small because each queued request
 * may be as large as clientFrameBytesMax. Past the send mark, replies to a
 * client that does not read them are dropped.
 */
const clientReceiveHighWaterMarkMessages = 16;
/**
 * Requests one client connection may have waiting for their replies; past it
 * the endpoint marks requests `overLimit` and the server refuses them at once.
 * Kept well under the send mark, so that the replies to every request a
 * connection may have in progress fit in its pipe and none is dropped.
 */
export const connectionRequestsMax = 1000;
const clientSendHighWaterMarkMessages = 2 * connectionRequestsMax;

/**
 * Reconnection after a forwarder or server restart: first retry soon, then
 * back off so that a peer that stays down is not hammered.
 */
const reconnectIntervalMs = 100;
const reconnectIntervalMsMax = 2_000;

/**
 * Raft messages are worthless once their sender has stopped, so bus sockets
 * drop what is unsent at close; the client endpoint gives its last replies
 * (SHUTTING_DOWN) a moment to leave.
 */
const peerLingerMs = 0;
const clientEndpointLingerMs = 200;

/** A server's sender on the Raft bus; it connects to every forwarder's `pub` endpoint. */
export function createPeerPublisher(security?: CurveClientSecurity): Publisher {
  const socket = new Publisher({
    linger: peerLingerMs,
    sendHighWaterMark: peerHighWaterMarkMessages,
    maxMessageSize: subscriptionBytesMax,
    reconnectInterval: reconnectIntervalMs,
    reconnectMaxInterval: reconnectIntervalMsMax,
    // Drop rather than block when a forwarder is slow: Raft retries.
    noDrop: false,
    // A PUB socket never has to wait (noDrop off); allowed no time to wait either, zeromq hands each message to
    // libzmq inside send() and never enters its one-send-in-flight state, so a batch's messages go back to back.
    sendTimeout: 0,
  });
  return secured(socket, security);
}

/** A server's receiver on the Raft bus; it connects to every forwarder's `sub` endpoint. */
export function createPeerSubscriber(security?: CurveClientSecurity): Subscriber {
  const socket = new Subscriber({
    linger: peerLingerMs,
    receiveHighWaterMark: peerHighWaterMarkMessages,
    maxMessageSize: peerMessageBytesMax,
    reconnectInterval: reconnectIntervalMs,
    reconnectMaxInterval: reconnectIntervalMsMax,
  });
  return secured(socket, security);
}

/** A forwarder's socket facing the servers' publishers (bound to `pub`). */
export function createForwarderXSubscriber(security?: CurveServerSecurity): XSubscriber {
  const socket = new XSubscriber({
    linger: peerLingerMs,
    sendHighWaterMark: peerHighWaterMarkMessages,
    receiveHighWaterMark: peerHighWaterMarkMessages,
    maxMessageSize: peerMessageBytesMax,
  });
  return secured(socket, security);
}

/** A forwarder's socket facing the servers' subscribers (bound to `sub`). */
export function createForwarderXPublisher(security?: CurveServerSecurity): XPublisher {
  const socket = new XPublisher({
    linger: peerLingerMs,
    sendHighWaterMark: peerHighWaterMarkMessages,
    receiveHighWaterMark: peerHighWaterMarkMessages,
    maxMessageSize: subscriptionBytesMax,
    noDrop: false,
  });
  return secured(socket, security);
}

/** A server's client endpoint: REQ and DEALER clients connect to it. */
export function createClientRouter(security?: CurveServerSecurity): Router {
  const socket = new Router({
    linger: clientEndpointLingerMs,
    sendHighWaterMark: clientSendHighWaterMarkMessages,
    receiveHighWaterMark: clientReceiveHighWaterMarkMessages,
    maxMessageSize: clientFrameBytesMax,
    // A reply to a client that has gone is dropped, not an error.
    mandatory: false,
    // Clients do not choose routing ids; a reused one must not take over another's replies.
    handover: false,
  });
  return secured(socket, security);
}

/**
 * A client's REQ socket to one server. Used the Lazy Pirate way: on a
 * timeout the caller closes it and opens a fresh one.
 */
export function createClientRequest(security?: CurveClientSecurity): Request {
  const socket = new Request({
    linger: 0,
    sendHighWaterMark: 1,
    receiveHighWaterMark: 1,
    maxMessageSize: clientReplyBytesMax,
    reconnectInterval: reconnectIntervalMs,
    reconnectMaxInterval: reconnectIntervalMsMax,
  });
  return secured(socket, security);
}

/**
 * Calls `onEvent` for each event of `socket` (connections, disconnections,
 * handshake failures) until the socket is closed; resolves then. For
 * logging: ZeroMQ reconnects by itself and reports nothing otherwise.
 */
export async function watchSocketEvents(socket: Socket, onEvent: (event: Event) => void): Promise<void> {
  try {
    for await (const event of socket.events) onEvent(event);
  } catch (error) {
    // The observer fails its last read when the socket closes under it.
    if (!socket.closed) throw error;
  }
}
