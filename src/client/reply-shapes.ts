import { adminActions, type AdminAction } from "../protocol/client-request.ts";
import { okReplyShape, type AdminFieldsOf, type OkFieldsOf, type ReplyFieldKind, type ServerRole, type WatchEventOf } from "../protocol/reply-fields.ts";
import type { ReplyFields } from "./client-codec.ts";

/**
 * The successful replies the client library returns, one per op, as the
 * protocol's one description of them (src/protocol/reply-fields.ts) says.
 * Each is the decoded reply itself, so fields a newer server adds are kept
 * (and printed by `--json`).
 */

export type { ServerRole };

/** Fields of every reply: the answering server's term and the leader it knows of. */
export interface ReplyCommon {
  readonly ok: true;
  readonly term: number;
  readonly leaderId: number | null;
}

/** A successful reply to `op`, with stored values decoded. */
type DecodedReply<Op extends ClientOp> = ReplyCommon & OkFieldsOf<Op, unknown>;

export type GetReply = DecodedReply<"get">;
export type PutReply = DecodedReply<"put">;
export type DeleteReply = DecodedReply<"delete">;
export type CasReply = DecodedReply<"cas">;
export type ListReply = DecodedReply<"list">;
export type StatusReply = DecodedReply<"status">;
export type AdminReply = DecodedReply<"admin">;
/** A successful reply to an admin request for `Action`. */
export type AdminReplyOf<Action extends AdminAction> = ReplyCommon & AdminFieldsOf<Action, unknown>;
export type WatchReply = DecodedReply<"watch">;

/** One change a watch reports, its value decoded (a put's only). */
export type WatchEvent = WatchEventOf<unknown>;

/**
 * A failure reply; `leader` is the leader's client endpoint with NOT_LEADER,
 * when known; `oldest` comes with COMPACTED: where the server's change
 * journal starts.
 */
export interface FailureReply {
  readonly ok: false;
  readonly error: string;
  readonly message: string;
  readonly leader?: string;
  readonly leaderId?: number | null;
  readonly oldest?: number;
}

/** The ops the client library sends, each with the reply it expects. */
export interface ReplyByOp {
  readonly get: GetReply;
  readonly put: PutReply;
  readonly delete: DeleteReply;
  readonly cas: CasReply;
  readonly list: ListReply;
  readonly status: StatusReply;
  readonly admin: AdminReply;
  readonly watch: WatchReply;
}

export type ClientOp = keyof ReplyByOp;

const isCount = (value: unknown): boolean => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** A change of a watch reply: a map with a positive index, a type, a key, and a value exactly when it is a put. */
function isWatchEvent(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Map || Buffer.isBuffer(value)) return false;
  const event = value as Readonly<Record<string, unknown>>;
  const fitsType = (event.type === "put" && Object.hasOwn(event, "value")) || (event.type === "delete" && !Object.hasOwn(event, "value"));
  return isCount(event.index) && (event.index as number) >= 1 && typeof event.key === "string" && fitsType;
}

/** Whether a decoded field holds what `kind` says. */
function fits(kind: ReplyFieldKind, value: unknown): boolean {
  switch (kind) {
    case "count":
      return isCount(value);
    case "boolean":
      return typeof value === "boolean";
    case "value":
      return true;
    case "entries":
      return Array.isArray(value) && value.every((entry) => Array.isArray(entry) && entry.length === 2 && typeof entry[0] === "string");
    case "events":
      return Array.isArray(value) && value.every(isWatchEvent);
    case "optional-id":
      return value === null || isCount(value);
    case "role":
      return value === "leader" || value === "follower" || value === "candidate";
    case "text":
      return typeof value === "string";
    case "binary":
      return value instanceof Uint8Array;
    case "members":
      return Array.isArray(value) && value.every(isMemberInfo);
  }
}

function isMemberInfo(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { id, client, voter } = value as Record<string, unknown>;
  return isCount(id) && (client === null || typeof client === "string") && typeof voter === "boolean";
}

const commonFields: Readonly<Record<string, ReplyFieldKind>> = { term: "count", leaderId: "optional-id" };
const failureFields: Readonly<Record<string, ReplyFieldKind>> = { error: "text", message: "text" };

/** The first field that breaks `shape`, as a sentence; undefined when none does. */
function firstMismatch(reply: ReplyFields, shape: Readonly<Record<string, ReplyFieldKind>>): string | undefined {
  for (const [field, kind] of Object.entries(shape)) {
    if (!Object.hasOwn(reply, field)) return `the reply has no ${field} field`;
    if (!fits(kind, reply[field])) return `the reply's ${field} field is malformed`;
  }
  return undefined;
}

/**
 * Checks a decoded reply against what `op` expects. Returns the typed reply,
 * or a sentence saying what is wrong with it.
 */
export function checkReply<Op extends ClientOp>(op: Op, reply: ReplyFields): ReplyByOp[Op] | FailureReply | string {
  if (!reply.ok) {
    const problem = firstMismatch(reply, failureFields);
    if (problem !== undefined) return problem;
    if (reply.leader !== undefined && typeof reply.leader !== "string") return "the reply's leader field is malformed";
    if (reply.error === "COMPACTED" && !(isCount(reply.oldest) && (reply.oldest as number) >= 1)) return "the COMPACTED reply has no valid oldest field";
    return reply as unknown as FailureReply;
  }
  const action = op === "admin" ? reply.action : undefined;
  if (op === "admin" && !(adminActions as readonly unknown[]).includes(action)) return "the reply's action field is malformed";
  const problem = firstMismatch(reply, commonFields) ?? firstMismatch(reply, okReplyShape(op, action as AdminAction | undefined));
  return problem ?? (reply as unknown as ReplyByOp[Op]);
}
