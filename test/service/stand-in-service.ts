/**
 * A KvService over a stand-in runtime that a test writes with only the
 * methods its requests reach, its replies decoded and checked as a client
 * would decode them.
 */
import assert from "node:assert/strict";
import { decodeReply, encodeRequest, type ReplyFields } from "../../src/client/client-codec.ts";
import { defaultClusterConfig } from "../../src/config/cluster-config.ts";
import { seedMembership } from "../../src/config/member-endpoints.ts";
import type { KvAnswer, KvQuery } from "../../src/kv/kv-query.ts";
import type { KvResult } from "../../src/kv/kv-result.ts";
import type { RaftServer } from "../../src/runtime/raft-server.ts";
import { KvService } from "../../src/service/kv-service.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";

/** The default cluster's first configuration, for a stand-in without a membership of its own: every reply names the leader's endpoint, which comes from it. */
const seed = seedMembership(defaultClusterConfig());

export function serviceOver(runtime: object, id = 1) {
  const replies: ReplyFields[] = [];
  const service = new KvService<number>({
    id,
    pid: process.pid,
    uptimeMs: () => 0,
    cluster: defaultClusterConfig(),
    runtime: { membership: () => seed, ...runtime } as RaftServer<KvQuery, KvAnswer, KvResult>,
    sessions: { cachedResult: () => null, size: 0 },
    clients: {
      reply: (_handle, bytes) => {
        const reply = decodeReply([Buffer.from(bytes)]);
        if (typeof reply === "string") assert.fail(reply);
        replies.push(reply);
      },
    },
    logger: new RecordingLogger(),
    onShutdownRequested: () => undefined,
    wallClockMs: () => 0,
  });
  const send = (handle: number, request: Readonly<Record<string, unknown>>): void => service.receive(handle, [encodeRequest(request)]);
  return { replies, send };
}
