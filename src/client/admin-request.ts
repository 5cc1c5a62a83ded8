/**
 * One `admin` request to one server (docs/protocol.md §4, §5): the
 * controller asks exactly the server it names, once, and reports what that
 * server said; it never retries elsewhere, since an admin action is about
 * that server.
 */
import type { ServerConfig } from "../config/cluster-config.ts";
import type { CurveClientKeys } from "../net/curve-security.ts";
import type { AdminAction, AdminCommand } from "../protocol/client-request.ts";
import { isErrorCode, type ErrorCode } from "../protocol/errors.ts";
import { decodeReply, encodeRequest } from "./client-codec.ts";
import { LazyPirateSocket, type Exchange } from "./lazy-pirate-socket.ts";
import { checkReply, type AdminReplyOf, type FailureReply } from "./reply-shapes.ts";

export type AdminOutcome<Action extends AdminAction = AdminAction> =
  | { readonly kind: "done"; readonly reply: AdminReplyOf<Action> }
  /** The server refused: its code, sentence, and the leader it knows of. */
  | { readonly kind: "refused"; readonly code: ErrorCode; readonly message: string; readonly leaderId: number | null }
  /** Nothing came back: the server is not running (it refused the connection at once), or down, paused or unreachable (nothing in time). */
  | { readonly kind: "no-reply"; readonly message: string };

export async function sendAdmin<Action extends AdminAction>(
  server: ServerConfig,
  request: AdminCommand & { readonly action: Action },
  options: { readonly timeoutMs: number; readonly curve?: CurveClientKeys },
): Promise<AdminOutcome<Action>> {
  // A server that is not running says so at once rather than after the timeout (docs/protocol.md §9).
  const socket = new LazyPirateSocket(server.client, options.curve, { refusalEndsExchange: true });
  try {
    const exchange = await socket.exchange(encodeRequest({ op: "admin", ...request }), options.timeoutMs);
    if (exchange.kind !== "reply") {
      return { kind: "no-reply", message: `server ${server.id} (${server.client}) ${whyNoReply(exchange, options.timeoutMs)}` };
    }
    const decoded = decodeReply(exchange.frames);
    const reply = typeof decoded === "string" ? decoded : checkReply("admin", decoded);
    if (typeof reply === "string") return { kind: "no-reply", message: `server ${server.id} broke the protocol: ${reply}` };
    if (reply.ok) {
      if (reply.action !== request.action) return { kind: "no-reply", message: `server ${server.id} broke the protocol: it answered a ${request.action} with a ${reply.action} reply` };
      return { kind: "done", reply: reply as AdminReplyOf<Action> };
    }
    const failure: FailureReply = reply;
    const code = isErrorCode(failure.error) ? failure.error : "BAD_REQUEST";
    return { kind: "refused", code, message: failure.message, leaderId: failure.leaderId ?? null };
  } finally {
    socket.close();
  }
}

function whyNoReply(exchange: Exclude<Exchange, { readonly kind: "reply" }>, timeoutMs: number): string {
  if (exchange.kind === "bad-endpoint") return `cannot be reached: ${exchange.problem}`;
  switch (exchange.cause) {
    case "refused":
      return "refused the connection: it is not running";
    case "disconnected":
      return "closed the connection";
    case "timeout":
      return `did not answer within ${timeoutMs} ms`;
  }
}
