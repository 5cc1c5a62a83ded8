import type { Event } from "zeromq";

/** The socket events libzmq reports when a connection's security handshake fails. */
export type HandshakeFailureEvent = Extract<Event, { type: "handshake:error:protocol" | "handshake:error:auth" | "handshake:error:other" }>;

export function isHandshakeFailure(event: Event): event is HandshakeFailureEvent {
  return event.type === "handshake:error:protocol" || event.type === "handshake:error:auth" || event.type === "handshake:error:other";
}

/**
 * A short kind for log throttling ("ERR_ZMTP_CRYPTOGRAPHIC", "auth 400",
 * "EFAULT" …), so that one kind of refusal cannot hide another in the log.
 */
export function handshakeFailureKind(event: HandshakeFailureEvent): string {
  if (event.type === "handshake:error:auth") return `auth ${event.error.status}`;
  const code = (event.error as { code?: unknown }).code;
  return typeof code === "string" ? code : event.type;
}

/**
 * What a handshake failure most likely means, for an operator
 * (docs/protocol.md §10), seen from the side that `accepted` the connection
 * (a bound socket) or made it. libzmq names the peer by the local endpoint
 * only, so the sentence says which side's settings to look at.
 */
export function describeHandshakeFailure(event: HandshakeFailureEvent, side: "accepted" | "connected"): string {
  const kind = handshakeFailureKind(event);
  switch (kind) {
    case "ERR_ZMTP_MECHANISM_MISMATCH":
      return "the two sides' security does not match (one of them uses CURVE and the other does not)";
    case "ERR_ZMTP_CRYPTOGRAPHIC":
      return side === "accepted"
        ? "the peer's CURVE handshake does not decrypt: it does not hold this cluster's public key (a wrong curve.publicKey, or a forger)"
        : "the other side's CURVE handshake does not decrypt: it holds another key pair than curve.publicKey";
    case "auth 400":
      return side === "accepted"
        ? "refused by the ZAP handler: the peer's public key is not admitted"
        : "the other side refused this side's public key";
    case "EFAULT":
      // libzmq's "Context is closed" here means its ZAP request found no handler to ask.
      return "no ZAP handler is running to admit the peer, so it was refused";
    case "EPIPE":
    case "ECONNRESET":
      // Each side checks the other's greeting; whichever does so first closes, so a mismatch may show up here instead.
      return side === "accepted"
        ? "the peer closed the connection during the handshake (one that does not use CURVE, or does not accept this side's key, does so)"
        : "the other side closed the connection during the handshake: it probably holds another key than curve.publicKey, or does not use CURVE";
    default:
      return `${event.error.message} (${kind})`;
  }
}
