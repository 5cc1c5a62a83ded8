import { capability, curveKeyPair, type Socket } from "zeromq";

/**
 * CURVE on a socket (docs/protocol.md §10). Every socket of the project gets
 * its security from here, through the factories of sockets.ts, so that no
 * socket can be left in plaintext by accident: a setting libzmq cannot
 * honour stops the program instead of quietly leaving the socket open.
 */

/** A socket that accepts connections and proves it holds the cluster's secret key. */
export interface CurveServerSecurity {
  readonly role: "server";
  /** Z85. */
  readonly secretKey: string;
  /**
   * The ZAP domain the socket's handshakes are checked in (docs/protocol.md
   * §10). When given, a connection is admitted only if a ZAP handler in this
   * process says so; with no handler running it is refused, never waved
   * through. Absent: any client that completes the CURVE handshake (that
   * is, knows the server's public key) is admitted.
   */
  readonly zapDomain?: string;
}

/** The keys a CURVE client needs, all Z85. */
export interface CurveClientKeys {
  /** The server's public key: a server without the matching secret key cannot finish the handshake. */
  readonly serverPublicKey: string;
  /** This side's own key pair: what the server's ZAP handler admits or refuses. */
  readonly publicKey: string;
  readonly secretKey: string;
}

/** A socket that connects to a CURVE server, whose public key it must know in advance. */
export interface CurveClientSecurity extends CurveClientKeys {
  readonly role: "client";
}

/** CURVE cannot be used here: the libzmq in use lacks it, or refused a setting. Exit code 1. */
export class CurveUnavailableError extends Error {
  override readonly name = "CurveUnavailableError";
  readonly exitCode = 1;
}

/** Whether libzmq was built with CURVE; the bindings' flag, overridable for tests. */
export interface CurveCapability {
  readonly curve?: boolean;
}

/** @throws CurveUnavailableError when libzmq was built without CURVE */
export function requireCurve(libzmq: CurveCapability = capability): void {
  if (libzmq.curve !== true) {
    throw new CurveUnavailableError(
      "CURVE encryption cannot be used: the installed libzmq was built without it (the config's curve section needs it)",
    );
  }
}

/**
 * Sets CURVE on `socket`, before it binds or connects, and checks that
 * libzmq took it.
 * @throws CurveUnavailableError when libzmq lacks CURVE or refuses an option
 */
export function applyCurve(socket: Socket, security: CurveServerSecurity | CurveClientSecurity, libzmq: CurveCapability = capability): void {
  requireCurve(libzmq);
  try {
    if (security.role === "server") {
      socket.curveServer = true;
      socket.curveSecretKey = security.secretKey;
      if (security.zapDomain !== undefined) {
        socket.zapDomain = security.zapDomain;
        // Without this, libzmq admits everyone when no ZAP handler is running.
        socket.zapEnforceDomain = true;
      }
    } else {
      socket.curveServerKey = security.serverPublicKey;
      socket.curvePublicKey = security.publicKey;
      socket.curveSecretKey = security.secretKey;
    }
  } catch (error) {
    throw new CurveUnavailableError(`CURVE encryption cannot be used: libzmq refused a CURVE option: ${(error as Error).message}`, { cause: error });
  }
  if (socket.securityMechanism !== "curve") {
    throw new CurveUnavailableError(`CURVE encryption cannot be used: the socket's security mechanism is ${String(socket.securityMechanism)} after setting CURVE`);
  }
}

/**
 * A fresh CURVE key pair in Z85, from libzmq's own generator.
 * @throws CurveUnavailableError when libzmq lacks CURVE
 */
export function generateCurveKeyPair(libzmq: CurveCapability = capability): { readonly publicKey: string; readonly secretKey: string } {
  requireCurve(libzmq);
  return curveKeyPair();
}
