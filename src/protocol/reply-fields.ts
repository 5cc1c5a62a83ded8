/**
 * The one description of a successful reply's fields, by op (docs/protocol.md
 * §5): the server encodes replies from it (client-reply.ts) and the client
 * library checks the replies it decodes against it (src/client/reply-shapes.ts).
 * Field order here is the order on the wire.
 */
import type { Op } from "./client-request.ts";

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
  | "text";

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
    votedFor: "optional-id",
    uptimeMs: "count",
  },
  admin: { action: "text" },
  watch: { events: "events", next: "count" },
} as const satisfies { readonly [op in Op]: Readonly<Record<string, ReplyFieldKind>> };

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
              : string;

/**
 * The fields of a successful reply to `op`, with stored values as `Value`:
 * raw MessagePack bytes on the server, decoded values in the client.
 */
export type OkFieldsOf<O extends Op, Value> = {
  readonly [Field in keyof (typeof replyFieldsByOp)[O]]: FieldType<(typeof replyFieldsByOp)[O][Field], Value>;
};
