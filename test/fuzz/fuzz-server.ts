/**
 * Server 1 of a 3-server cluster, built as a server process builds it (a
 * real RaftNode, KvStore, RaftServer and KvService) with storage whose saves
 * finish when the test says so, a clock the test moves, and a record of
 * everything that leaves: Raft messages, and replies by the client handle
 * they answer. The fuzzer plays every client and both other servers.
 *
 * It records as violations what must never happen: a fatal error (storage
 * failing, or an AssertionError from the Ready loop: input reaching an
 * assertion, docs/architecture.md §6), a message sent while a save it may
 * depend on is in flight (docs/architecture.md §4), a second reply to one
 * request, and a reply the client library cannot read (docs/protocol.md §5).
 */
import { decodeReply, type ReplyFields } from "../../src/client/client-codec.ts";
import type { KvAnswer, KvQuery } from "../../src/kv/kv-query.ts";
import type { KvResult } from "../../src/kv/kv-result.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import type { Message, RaftNode } from "../../src/raft/index.ts";
import type { RaftServer } from "../../src/runtime/raft-server.ts";
import { assembleServer, type GatedStorage, turns } from "../runtime/server-harness.ts";

export const selfId = 1;
export const serverIds: readonly number[] = [1, 2, 3];
/** docs/protocol.md §5: a write or linearizable read not answered in 3 s gets TIMEOUT. */
export const requestTimeoutMs = 3000;

export interface FuzzServer {
  readonly node: RaftNode;
  readonly server: RaftServer<KvQuery, KvAnswer, KvResult>;
  readonly storage: GatedStorage;
  readonly kv: KvStore;
  /** Raft messages sent, in order. */
  readonly sent: Message[];
  /** Replies by the handle of the request they answer, decoded by the client library (or the sentence it refused them with). */
  readonly replies: Map<number, (ReplyFields | string)[]>;
  readonly violations: string[];
  /** Hands one client request to the service; returns its handle. */
  request(frames: readonly Uint8Array[]): number;
  /** How many requests were handed over. */
  readonly requests: () => number;
  /** Proposals and reads the runtime holds. */
  pendingInRuntime(): number;
  advanceTime(ms: number): void;
  now(): number;
}

const describe = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));

export function fuzzServer(seed: number): FuzzServer {
  let now = 0;
  let nextHandle = 1;
  const replies = new Map<number, (ReplyFields | string)[]>();
  const violations: string[] = [];
  const { storage, sent, node, kv, server, service } = assembleServer({
    seed,
    nowMs: () => now,
    reply: (handle, bytes) => {
      const decoded = decodeReply([Buffer.from(bytes)]);
      if (typeof decoded === "string") violations.push(`request ${handle} got a reply the client cannot read: ${decoded}`);
      const list = replies.get(handle) ?? [];
      list.push(decoded);
      replies.set(handle, list);
      if (list.length > 1) violations.push(`request ${handle} got ${list.length} replies`);
    },
    onFatal: (error) => violations.push(`fatal: ${describe(error)}`),
    violations,
  });
  return {
    node,
    server,
    storage,
    kv,
    sent,
    replies,
    violations,
    request(frames) {
      const handle = nextHandle++;
      service.receive(handle, frames);
      return handle;
    },
    requests: () => nextHandle - 1,
    pendingInRuntime() {
      const runtime = server as unknown as { pending: { size(): number }; displacedWrites: readonly unknown[] };
      return runtime.pending.size() + runtime.displacedWrites.length;
    },
    advanceTime(ms) {
      now += ms;
      server.tick();
    },
    now: () => now,
  };
}

/**
 * Lets every request run its course: saves complete, and time passes well
 * beyond the request timeout, so that whatever could not be confirmed is
 * answered TIMEOUT (docs/protocol.md §5).
 */
export async function drain(h: FuzzServer): Promise<void> {
  for (let round = 0; round < 8; round++) {
    h.storage.releaseAll();
    await turns(4);
    h.advanceTime(requestTimeoutMs / 2 + 1);
    await turns(4);
  }
  h.storage.releaseAll();
  await turns(4);
}

export { turns };
