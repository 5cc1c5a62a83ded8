/**
 * Fake zraft servers for testing clients without Raft: each is a ZeroMQ
 * Router bound on a free loopback port that answers every request as its
 * current `behaviour` says (docs/protocol.md §5), so a test can make one
 * server a leader, another a redirecting follower, a third silent, one
 * that dies on receiving a request (closes its socket, as a killed server's
 * kernel would), and change them mid-test.
 */
import { connect, createServer, type AddressInfo } from "node:net";
import { Packr, Unpackr } from "msgpackr";
import { Router } from "zeromq";
import type { WatchEvent } from "../../src/client/zraft-client.ts";
import { defaultClusterConfig, type ClusterConfig } from "../../src/config/cluster-config.ts";

type Fields = Record<string, unknown>;

/**
 * What a fake server does with one request: answer with a map, answer with
 * raw bytes, stay silent, or close its socket without answering, which drops
 * every client's connection at once (the server is gone for good).
 */
export type FakeAnswer = Fields | { readonly raw: Buffer } | "no-reply" | "close";
export type Behaviour = (request: Fields, server: FakeServer) => FakeAnswer;

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/** Maps with string keys to objects, defining (not assigning) keys so `__proto__` survives. */
function toFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toFields);
  if (!(value instanceof Map)) return value;
  if (![...value.keys()].every((key) => typeof key === "string")) return value;
  const object: Fields = {};
  for (const [key, item] of value) Object.defineProperty(object, key as string, { value: toFields(item), enumerable: true });
  return object;
}

export interface FakeServerOptions {
  /**
   * libzmq drops the connection of a client that sends a larger frame, and
   * the server stays up (as a real server does past clientFrameBytesMax).
   */
  readonly maxMessageSize?: number;
  /** CURVE (docs/protocol.md §10) with this secret key (Z85), admitting any client that knows the public key. */
  readonly curveSecretKey?: string;
  /** Bind here (a server started again where it was) instead of on a free loopback port. */
  readonly endpoint?: string;
}

export class FakeServer {
  /** Every request received, decoded, in arrival order. */
  readonly requests: Fields[] = [];
  readonly #router: Router;
  readonly #serving: Promise<void>;

  private constructor(
    readonly id: number,
    readonly endpoint: string,
    router: Router,
    public behaviour: Behaviour,
  ) {
    this.#router = router;
    this.#serving = this.#serve();
  }

  static async start(id: number, behaviour: Behaviour, options: FakeServerOptions = {}): Promise<FakeServer> {
    const router = new Router({
      linger: 0,
      ...(options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize }),
      ...(options.curveSecretKey === undefined ? {} : { curveServer: true, curveSecretKey: options.curveSecretKey }),
    });
    await router.bind(options.endpoint ?? "tcp://127.0.0.1:*");
    return new FakeServer(id, router.lastEndpoint as string, router, behaviour);
  }

  /** Requests whose `op` is `op`. */
  requestsOf(op: string): Fields[] {
    return this.requests.filter((request) => request.op === op);
  }

  /** Whether the server has closed its socket (close(), or a "close" answer). */
  get closed(): boolean {
    return this.#router.closed;
  }

  /** Closes the socket while idle, dropping every client's connection; idempotent. */
  async close(): Promise<void> {
    this.#router.close();
    await this.#serving;
  }

  async #serve(): Promise<void> {
    for await (const [routingId, delimiter, body] of this.#router) {
      const request = toFields(unpackr.unpack(body as Buffer)) as Fields;
      this.requests.push(request);
      const answer = this.behaviour(request, this);
      if (answer === "no-reply") continue;
      if (answer === "close") {
        this.#router.close();
        return;
      }
      const bytes = "raw" in answer && Buffer.isBuffer(answer.raw) ? answer.raw : packr.pack(answer);
      try {
        await this.#router.send([routingId as Buffer, delimiter as Buffer, bytes]);
      } catch (error) {
        // Closed (close()) while this reply was on its way: the server is gone, as a killed one would be.
        if (this.#router.closed) return;
        throw error;
      }
    }
  }
}

/** The fields every reply carries. */
const common = (leaderId: number | null): Fields => ({ term: 1, leaderId });

/**
 * A tiny key-value state machine with a session table, standing in for the
 * leader: a retried write (same client and seq) gets its original reply.
 */
export class FakeStore {
  readonly data = new Map<string, unknown>();
  /** The most pairs one list reply holds. */
  listPageEntries = 2;
  readonly #sessions = new Map<string, { seq: number; reply: Fields }>();
  #index = 0;
  /** How many writes were applied (a retried write counts once). */
  applied = 0;

  /** Answers `request` as the leader `server` would. */
  answer(request: Fields, server: FakeServer): Fields {
    const op = request.op;
    const key = request.key as string;
    if (op === "get") return { ok: true, ...common(server.id), found: this.data.has(key), value: this.data.get(key) ?? null };
    if (op === "list") {
      const prefix = (request.prefix as string | undefined) ?? "";
      const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
      // Pages as a server does (docs/protocol.md §4), small enough that tests see several.
      const after = request.after as string | undefined;
      const from = after === undefined ? keys : keys.filter((k) => k > after);
      const size = Math.min(typeof request.limit === "number" ? request.limit : Number.POSITIVE_INFINITY, this.listPageEntries);
      const page = from.slice(0, size);
      return { ok: true, ...common(server.id), entries: page.map((k) => [k, this.data.get(k)]), more: from.length > page.length };
    }
    if (op === "status") return statusOf(server, "leader", server.id);
    const session = this.#sessions.get(request.client as string);
    if (session !== undefined && session.seq === request.seq) return session.reply;
    const reply = this.#apply(request, server);
    this.#sessions.set(request.client as string, { seq: request.seq as number, reply });
    return reply;
  }

  #apply(request: Fields, server: FakeServer): Fields {
    const key = request.key as string;
    this.#index += 1;
    this.applied += 1;
    const base = { ok: true, ...common(server.id), index: this.#index };
    switch (request.op) {
      case "put":
        this.data.set(key, request.value);
        return base;
      case "delete": {
        const found = this.data.delete(key);
        return { ...base, found };
      }
      case "cas": {
        const current = this.data.has(key) ? this.data.get(key) : null;
        const swapped = JSON.stringify(current) === JSON.stringify(request.expect);
        if (swapped) this.data.set(key, request.value);
        return { ...base, swapped, value: swapped ? request.value : current };
      }
      default:
        return { ok: false, ...common(server.id), error: "BAD_REQUEST", message: `unknown op ${String(request.op)}` };
    }
  }
}

export function statusOf(server: FakeServer, role: string, leaderId: number | null): Fields {
  return {
    ok: true,
    ...common(leaderId),
    id: server.id,
    pid: process.pid,
    role,
    commitIndex: 0,
    lastApplied: 0,
    lastLogIndex: 0,
    logStartIndex: 0,
    snapshotIndex: 0,
    votedFor: leaderId,
    uptimeMs: 1000,
    members: [{ id: server.id, client: server.endpoint, voter: true }],
  };
}

/** Changes at indexes 1 to 12, for a fake's change journal: puts to a/ and b/ and deletes, with gaps where entries changed nothing. */
export const fakeChanges: readonly WatchEvent[] = [
  { index: 1, type: "put", key: "a/1", value: "one" },
  { index: 2, type: "put", key: "b/1", value: { n: 2 } },
  { index: 4, type: "put", key: "a/2", value: 2 },
  { index: 5, type: "delete", key: "a/1" },
  { index: 7, type: "put", key: "b/2", value: null },
  { index: 8, type: "put", key: "a/3", value: [3] },
  { index: 11, type: "put", key: "a/4", value: "four" },
  { index: 12, type: "delete", key: "b/1" },
];
const fakeChangesEnd = 12;

/** Ready-made behaviours. */
export const behaviours = {
  /**
   * A server's change journal of fakeChanges, starting at `oldest`: watches
   * answered in pages of two as docs/protocol.md §4 says, except that a poll
   * with nothing to report is answered at once instead of held.
   */
  journal:
    (oldest = 1): Behaviour =>
    (request, server) => {
      if (request.op !== "watch") return { ok: false, ...common(server.id), error: "BAD_REQUEST", message: "only watches here" };
      const from = typeof request.from === "number" ? request.from : fakeChangesEnd + 1;
      if (from < oldest) return { ok: false, ...common(server.id), error: "COMPACTED", message: `the changes before index ${oldest} are no longer kept`, oldest };
      const prefix = typeof request.prefix === "string" ? request.prefix : "";
      const matching = fakeChanges.filter((event) => event.index >= from && event.key.startsWith(prefix));
      const page = matching.slice(0, 2);
      const next = matching[2]?.index ?? Math.max(from, fakeChangesEnd + 1);
      return { ok: true, ...common(server.id), events: page, next };
    },
  leader: (store: FakeStore): Behaviour => (request, server) => store.answer(request, server),
  /** Redirects writes and reads to `leader()`; answers status itself. */
  follower:
    (leader: () => FakeServer): Behaviour =>
    (request, server) =>
      request.op === "status"
        ? statusOf(server, "follower", leader().id)
        : {
            ok: false,
            ...common(leader().id),
            error: "NOT_LEADER",
            message: `server ${server.id} is not the leader`,
            leader: leader().endpoint,
          },
  silent: (): Behaviour => () => "no-reply",
  /** Takes the request, then closes its socket without answering. */
  dies: (): Behaviour => () => "close",
  noLeader: (): Behaviour => (request, server) =>
    request.op === "status"
      ? statusOf(server, "candidate", null)
      : { ok: false, ...common(null), error: "NO_LEADER", message: "an election is under way" },
} as const;

/** Fake servers with ids 1..n (all silent until given a behaviour) and a config naming them. */
export class FakeCluster {
  private constructor(
    readonly servers: readonly FakeServer[],
    readonly config: ClusterConfig,
  ) {}

  static async start(count: number, options: FakeServerOptions = {}): Promise<FakeCluster> {
    const servers = await Promise.all(Array.from({ length: count }, (_, i) => FakeServer.start(i + 1, behaviours.silent(), options)));
    const config = { ...defaultClusterConfig(), servers: servers.map((server) => ({ id: server.id, client: server.endpoint })) };
    return new FakeCluster(servers, config);
  }

  server(id: number): FakeServer {
    const server = this.servers.find((candidate) => candidate.id === id);
    if (server === undefined) throw new Error(`no fake server ${id}`);
    return server;
  }

  /** Makes `leaderId` the leader over a fresh store and every other server a follower redirecting to it. */
  elect(leaderId: number, store = new FakeStore()): FakeStore {
    for (const server of this.servers) {
      server.behaviour = server.id === leaderId ? behaviours.leader(store) : behaviours.follower(() => this.server(leaderId));
    }
    return store;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.close()));
  }
}

/** Resolves once a TCP connection to `endpoint` is refused: a closed fake's port is free only a moment after close(). */
export async function untilRefused(endpoint: string): Promise<void> {
  const { hostname, port } = new URL(endpoint);
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), hostname);
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    if (refused) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * An endpoint on a loopback port that nothing listens on now: a server that
 * is not running, which refuses connections (a closed fake could still
 * accept one while libzmq closes it).
 */
export async function notRunningEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `tcp://127.0.0.1:${port}`;
}

/** `config` with the servers in `ids` moved to endpoints where nothing runs. */
export async function withServersNotRunning(config: ClusterConfig, ids: readonly number[]): Promise<ClusterConfig> {
  const servers = await Promise.all(config.servers.map(async (server) => (ids.includes(server.id) ? { ...server, client: await notRunningEndpoint() } : server)));
  return { ...config, servers };
}
