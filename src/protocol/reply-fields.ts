/**
 * The one description of a successful reply's fields, by op (docs/protocol.md
 * §5): the server encodes replies from it (client-reply.ts) and the client
 * library checks the replies it decodes against it (src/client/reply-shapes.ts).
 * Field order here is the order on the wire.
 */
import type { AdminAction, Op } from "./client-request.ts";

/** What a field holds. */
export type ReplyFieldKind =
  /** A non-negative integer: an index, a term, an id, a pid. */
  | "count"
  | "boolean"
  /** A stored value: any MessagePack value; nil when the key is absent. */
  | "value"
  /** An array of `[key, value]` pairs. */
  | "entries"
  /** An array of changes, each a map `{ index, type, key, value? }` (value for a put only). */
  | "events"
  /** A server id, or nil. */
  | "optional-id"
  /** "leader", "follower" or "candidate". */
  | "role"
  | "text"
  /** Bytes the server sends (MessagePack bin), not a stored value. */
  | "binary"
  /** The configuration in force: an array of `{id, client, voter}` maps (MemberInfo). */
  | "members";

/** One member of a configuration, in a reply: its id, its client endpoint (nil when unknown), and whether it votes. */
export interface MemberInfo {
  readonly id: number;
  readonly client: string | null;
  readonly voter: boolean;
}

export const replyFieldsByOp = {
  get: { value: "value", found: "boolean" },
  put: { index: "count" },
  delete: { index: "count", found: "boolean" },
  cas: { index: "count", swapped: "boolean", value: "value" },
  list: { entries: "entries", more: "boolean" },
  status: {
    id: "count",
    pid: "count",
    role: "role",
    commitIndex: "count",
    lastApplied: "count",
    lastLogIndex: "count",
    logStartIndex: "count",
    snapshotIndex: "count",
    votedFor: "optional-id",
    uptimeMs: "count",
    members: "members",
  },
  admin: { action: "text" },
  watch: { events: "events", next: "count" },
} as const satisfies { readonly [op in Op]: Readonly<Record<string, ReplyFieldKind>> };

/**
 * What an admin reply holds after `action`, by action. `term` is taken by
 * every reply (the server's current term), so a snapshot's position is
 * `snapshotIndex` and `snapshotTerm`, as `snapshotIndex` in a status reply.
 */
export const adminReplyFieldsByAction = {
  timeout: {},
  "step-down": {},
  shutdown: {},
  transfer: {},
  snapshot: { snapshotIndex: "count", snapshotTerm: "count" },
  backup: { snapshotIndex: "count", snapshotTerm: "count", chunk: "count", last: "boolean", data: "binary" },
  add: { index: "count", members: "members" },
  remove: { index: "count", members: "members" },
} as const satisfies { readonly [action in AdminAction]: Readonly<Record<string, ReplyFieldKind>> };

/** Every field of a successful reply to `op` (an admin reply's by its `action`), in wire order. */
export function okReplyShape(op: Op, action?: AdminAction): Readonly<Record<string, ReplyFieldKind>> {
  return op === "admin" && action !== undefined ? { ...replyFieldsByOp.admin, ...adminReplyFieldsByAction[action] } : replyFieldsByOp[op];
}

export type ServerRole = "leader" | "follower" | "candidate";

/** One change of a watch reply, with the stored value as `Value`. */
export type WatchEventOf<Value> =
  | { readonly index: number; readonly type: "put"; readonly key: string; readonly value: Value }
  | { readonly index: number; readonly type: "delete"; readonly key: string };

/** The type of a field of `kind`, with stored values represented as `Value`. */
type FieldType<Kind, Value> = Kind extends "count"
  ? number
  : Kind extends "boolean"
    ? boolean
    : Kind extends "value"
      ? Value | null
      : Kind extends "entries"
        ? readonly (readonly [string, Value])[]
        : Kind extends "events"
          ? readonly WatchEventOf<Value>[]
          : Kind extends "optional-id"
            ? number | null
            : Kind extends "role"
              ? ServerRole
              : Kind extends "binary"
                ? Uint8Array
                : Kind extends "members"
                  ? readonly MemberInfo[]
                : string;

type FieldsOf<Shape, Value> = { readonly [Field in keyof Shape]: FieldType<Shape[Field], Value> };

/** The fields of a successful admin reply to one of `Actions`, by its `action`. */
export type AdminFieldsOf<Actions extends AdminAction, Value> = {
  [Action in Actions]: { readonly action: Action } & FieldsOf<(typeof adminReplyFieldsByAction)[Action], Value>;
}[Actions];

/**
 * The fields of a successful reply to `op`, with stored values as `Value`:
 * raw MessagePack bytes on the server, decoded values in the client.
 */
export type OkFieldsOf<O extends Op, Value> = O extends "admin" ? AdminFieldsOf<AdminAction, Value> : FieldsOf<(typeof replyFieldsByOp)[O], Value>;
