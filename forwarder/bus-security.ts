/**
 * Who may use a forwarder (docs/protocol.md §10). With a `curve` section its
 * two sockets are CURVE servers holding the cluster's secret key, and a ZAP
 * handler admits only peers that present the cluster's own public key: the
 * servers, which hold the cluster's key pair. Anyone else, including a
 * process that knows the (public) cluster key but has its own key pair,
 * gets no connection, and the refusal is logged with its address and key.
 * Without `curve`, both sockets are plaintext and admit anyone.
 */
import type winston from "winston";
import type { Socket } from "zeromq";
import { decodeCurveKey, z85Encode, type CurveKeyPair } from "../src/config/curve-keys.ts";
import { LogThrottle } from "../src/logging/log-throttle.ts";
import { loggerFrom } from "../src/logging/logging.ts";
import type { CurveServerSecurity } from "../src/net/curve-security.ts";
import { describeHandshakeFailure, handshakeFailureKind, isHandshakeFailure } from "../src/net/handshake-failure.ts";
import { watchSocketEvents } from "../src/net/sockets.ts";
import { ZapHandler } from "../src/net/zap-handler.ts";

/** One ZAP domain per socket, so that a refusal says which endpoint the peer tried. */
const zapDomains = { pub: "zraft-bus-pub", sub: "zraft-bus-sub" } as const;

export interface BusSecurity {
  /** CURVE for the XSUB socket bound to `pub`; undefined without `curve` (plaintext). */
  readonly publishersSocket: CurveServerSecurity | undefined;
  /** CURVE for the XPUB socket bound to `sub`; undefined without `curve`. */
  readonly subscribersSocket: CurveServerSecurity | undefined;
  /** Rejects if the ZAP handler fails: the forwarder must stop then, since it would admit no one. */
  readonly failed: Promise<never>;
  /** Logs each failed handshake on `socket` (throttled) until the socket closes. */
  watch(socket: Socket, endpoint: string): Promise<void>;
  /** Stops the ZAP handler; call after the sockets have closed. */
  close(): Promise<void>;
}

/**
 * Starts the ZAP handler when `curve` (the cluster's key pair) is given,
 * before the sockets bind, so that no connection is ever let through
 * unchecked.
 * @throws ZapHandlerError when the ZAP endpoint is taken
 */
export async function startBusSecurity(curve: CurveKeyPair | undefined, logger: winston.Logger): Promise<BusSecurity> {
  const log = loggerFrom(logger);
  const throttle = new LogThrottle(log);
  let zap: ZapHandler | undefined;
  if (curve !== undefined) {
    const clusterKey = decodeCurveKey(curve.publicKey);
    if (typeof clusterKey === "string") throw new Error(`curve.publicKey ${clusterKey}: the config check should have refused it`);
    zap = await ZapHandler.start({
      admissions: new Map([
        [zapDomains.pub, [clusterKey]],
        [zapDomains.sub, [clusterKey]],
      ]),
      onRefused: (refusal) => {
        const key = refusal.clientKey === undefined ? "(none)" : z85Encode(refusal.clientKey);
        const port = refusal.domain === zapDomains.pub ? "pub" : refusal.domain === zapDomains.sub ? "sub" : refusal.domain;
        throttle.warn(
          "peer refused",
          `refused a peer at ${refusal.address || "(unknown address)"} on ${port} with public key ${key}: ${refusal.reason} ` +
            "(only servers holding the cluster's key pair are admitted)",
          { address: refusal.address, clientKey: key },
        );
      },
      onAdmitted: (request) => log.debug(`admitted a server at ${request.address}`),
    });
    logger.info("CURVE is on: only peers holding the cluster's key pair are admitted");
  }
  const security = (domain: string): CurveServerSecurity | undefined =>
    curve === undefined ? undefined : { role: "server", secretKey: curve.secretKey, zapDomain: domain };
  const handler = zap;
  return {
    publishersSocket: security(zapDomains.pub),
    subscribersSocket: security(zapDomains.sub),
    failed: handler === undefined ? new Promise<never>(() => {}) : handler.done.then(() => new Promise<never>(() => {})),
    watch: (socket, endpoint) =>
      watchSocketEvents(socket, (event) => {
        if (!isHandshakeFailure(event)) return;
        // An auth failure was refused by the ZAP handler, which has logged it with the peer's key.
        if (event.type === "handshake:error:auth") return;
        // docs/protocol.md §10: the refused peer is told nothing, so this line is the only trace.
        throttle.warn(`handshake ${handshakeFailureKind(event)}`, `refused a peer on ${endpoint}, whose handshake failed: ${describeHandshakeFailure(event, "accepted")}`);
      }),
    close: async () => {
      await handler?.close();
    },
  };
}
