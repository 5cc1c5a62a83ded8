/**
 * The one mapping between the client protocol and the KV store: a request
 * becomes a command or a query, and a result or an answer becomes a reply
 * (docs/architecture.md §5). Neither side knows the other.
 */
import { assertNever } from "../base/assert.ts";
import type { CommandContext, KvCommand } from "../kv/commands.ts";
import type { KvAnswer, KvQuery, WatchQuery } from "../kv/kv-query.ts";
import type { KvResult } from "../kv/kv-result.ts";
import { sessionLimitsDefault } from "../kv/sessions.ts";
import { compactedReply, errorReply, okReply, type Reply, type ReplyContext } from "../protocol/client-reply.ts";
import type { GetRequest, ListRequest, WatchRequest, WriteRequest } from "../protocol/client-request.ts";
import { listPageBytesMax, listPageEntriesMax, watchPageBytesMax, watchPageEventsMax } from "../protocol/limits.ts";

export type ReadRequest = GetRequest | ListRequest;

const sessionIdleMinutes = sessionLimitsDefault.idleMsMax / 60_000;

/** The command a write proposes, stamped with the proposing leader's clock (`atMs`, ms since the epoch). */
export function commandOf(request: WriteRequest, atMs: number): KvCommand {
  const context: CommandContext = request.client === undefined ? { atMs } : { client: request.client, seq: request.seq, atMs };
  switch (request.op) {
    case "put":
      return { op: "put", key: request.key, value: request.value, ...context };
    case "delete":
      return { op: "delete", key: request.key, ...context };
    case "cas":
      return { op: "cas", key: request.key, expect: request.expect, value: request.value, ...context };
    default:
      return assertNever(request, "write request");
  }
}

export function queryOf(request: ReadRequest): KvQuery {
  if (request.op === "get") return { op: "get", key: request.key };
  return {
    op: "list",
    ...(request.prefix === undefined ? {} : { prefix: request.prefix }),
    ...(request.after === undefined ? {} : { after: request.after }),
    limit: Math.min(request.limit ?? listPageEntriesMax, listPageEntriesMax),
    bytesMax: listPageBytesMax,
  };
}

/** A watch's first page; the service asks again from each page's `next` while it holds the request. */
export function watchQueryOf(request: WatchRequest): WatchQuery {
  return {
    op: "watch",
    ...(request.prefix === undefined ? {} : { prefix: request.prefix }),
    ...(request.from === undefined ? {} : { from: request.from }),
    limit: Math.min(request.limit ?? watchPageEventsMax, watchPageEventsMax),
    bytesMax: watchPageBytesMax,
  };
}

export function replyOfAnswer(answer: KvAnswer, context: ReplyContext): Reply {
  switch (answer.op) {
    case "get":
      return okReply({ op: "get", value: answer.value, found: answer.value !== null }, context);
    case "list":
      return okReply({ op: "list", entries: answer.entries, more: answer.more }, context);
    case "watch":
      if (answer.page.kind === "events") return okReply({ op: "watch", events: answer.page.events, next: answer.page.next }, context);
      return compactedReply(
        `the changes before index ${answer.page.oldest} are no longer kept by this server (its change journal starts there); ` +
          `watch again from ${answer.page.oldest} or later`,
        answer.page.oldest,
        context,
      );
    default:
      return assertNever(answer, "answer");
  }
}

export function replyOfResult(result: KvResult, context: ReplyContext): Reply {
  switch (result.kind) {
    case "put":
      return okReply({ op: "put", index: result.index }, context);
    case "delete":
      return okReply({ op: "delete", index: result.index, found: result.found }, context);
    case "cas":
      return okReply({ op: "cas", index: result.index, swapped: result.swapped, value: result.value }, context);
    case "stale-seq":
      return errorReply(
        "BAD_REQUEST",
        `seq ${result.seq} of client ${JSON.stringify(result.client)} is below the last seq this session applied ` +
          `(${result.lastSeq}); the write was not applied again and its original reply is no longer kept`,
        context,
      );
    case "session-expired":
      return errorReply(
        "SESSION_EXPIRED",
        `session ${JSON.stringify(result.client)} is not known (a session idle for ${sessionIdleMinutes} minutes is forgotten, and a new one starts at seq 1), ` +
          `so seq ${result.seq} was not applied; start a new session`,
        context,
      );
    case "sessions-full":
      return errorReply(
        "TIMEOUT",
        `the session table is full (${result.sessions} sessions, ${result.bytes} bytes) and the write was not applied; ` +
          "retry when idle sessions have expired, or write without a session",
        context,
      );
    default:
      return assertNever(result, "result");
  }
}
