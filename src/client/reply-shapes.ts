import type { ReplyFields } from "./client-codec.ts";

/**
 * The successful replies the client library returns, one per op, as
 * PROTOCOL.md §3 "Replies" lists them. Each is the decoded reply itself, so
 * fields a newer server adds are kept (and printed by `--json`).
 */

/** Fields of every reply: the answering server's term and the leader it knows of. */
export interface ReplyCommon {
  readonly ok: true;
  readonly term: number;
  readonly leaderId: number | null;
}

export interface GetReply extends ReplyCommon {
  readonly found: boolean;
  /** The stored value; null when absent. */
  readonly value: unknown;
}

export interface PutReply extends ReplyCommon {
  /** The log index at which the write committed. */
  readonly index: number;
}

export interface DeleteReply extends ReplyCommon {
  readonly index: number;
  /** Whether the key existed. */
  readonly found: boolean;
}

export interface CasReply extends ReplyCommon {
  readonly index: number;
  readonly swapped: boolean;
  /** The value stored now (the new one when swapped, else the current one; null when absent). */
  readonly value: unknown;
}

export interface ListReply extends ReplyCommon {
  /** `[key, value]` pairs in key order. */
  readonly entries: ReadonlyArray<readonly [string, unknown]>;
}

export type ServerRole = "leader" | "follower" | "candidate";

export interface StatusReply extends ReplyCommon {
  readonly id: number;
  readonly pid: number;
  readonly role: ServerRole;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastLogIndex: number;
  readonly votedFor: number | null;
}

/** A failure reply; `leader` is the leader's client endpoint with NOT_LEADER, when known. */
export interface FailureReply {
  readonly ok: false;
  readonly error: string;
  readonly message: string;
  readonly leader?: string;
  readonly leaderId?: number | null;
}

/** The ops the client library sends, each with the reply it expects. */
export interface ReplyByOp {
  readonly get: GetReply;
  readonly put: PutReply;
  readonly delete: DeleteReply;
  readonly cas: CasReply;
  readonly list: ListReply;
  readonly status: StatusReply;
}

export type ClientOp = keyof ReplyByOp;

type FieldCheck = (value: unknown) => boolean;

const isCount: FieldCheck = (value) => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
const isOptionalId: FieldCheck = (value) => value === null || isCount(value);
const isBoolean: FieldCheck = (value) => typeof value === "boolean";
const isAnything: FieldCheck = () => true;
const isEntryList: FieldCheck = (value) =>
  Array.isArray(value) && value.every((entry) => Array.isArray(entry) && entry.length === 2 && typeof entry[0] === "string");
const isRole: FieldCheck = (value) => value === "leader" || value === "follower" || value === "candidate";

const common: Readonly<Record<string, FieldCheck>> = { term: isCount, leaderId: isOptionalId };

const successShapes: { readonly [Op in ClientOp]: Readonly<Record<string, FieldCheck>> } = {
  get: { found: isBoolean, value: isAnything },
  put: { index: isCount },
  delete: { index: isCount, found: isBoolean },
  cas: { index: isCount, swapped: isBoolean, value: isAnything },
  list: { entries: isEntryList },
  status: {
    id: isCount,
    pid: isCount,
    role: isRole,
    commitIndex: isCount,
    lastApplied: isCount,
    lastLogIndex: isCount,
    votedFor: isOptionalId,
  },
};

const failureShape: Readonly<Record<string, FieldCheck>> = {
  error: (value) => typeof value === "string",
  message: (value) => typeof value === "string",
};

/** The first field that breaks `shape`, as a sentence; undefined when none does. */
function firstMismatch(reply: ReplyFields, shape: Readonly<Record<string, FieldCheck>>): string | undefined {
  for (const [field, check] of Object.entries(shape)) {
    if (!Object.hasOwn(reply, field)) return `the reply has no ${field} field`;
    if (!check(reply[field])) return `the reply's ${field} field is malformed`;
  }
  return undefined;
}

/**
 * Checks a decoded reply against what `op` expects. Returns the typed reply,
 * or a sentence saying what is wrong with it.
 */
export function checkReply<Op extends ClientOp>(op: Op, reply: ReplyFields): ReplyByOp[Op] | FailureReply | string {
  if (!reply.ok) {
    const problem = firstMismatch(reply, failureShape);
    if (problem !== undefined) return problem;
    if (reply.leader !== undefined && typeof reply.leader !== "string") return "the reply's leader field is malformed";
    return reply as unknown as FailureReply;
  }
  const problem = firstMismatch(reply, common) ?? firstMismatch(reply, successShapes[op]);
  return problem ?? (reply as unknown as ReplyByOp[Op]);
}
