/**
 * Raw access to the client protocol of a real cluster (docs/protocol.md §3), for
 * end-to-end tests that must pin a request to one server or control its
 * bytes, frames, `client` and `seq` exactly, which the ZraftClient library
 * (with its failover, redirects and own sequence numbers) rightly hides.
 */
import { Dealer, Request } from "zeromq";
import { decodeReply, encodeRequest, type ReplyFields } from "../../src/client/client-codec.ts";
import { waitFor, type TestCluster, type WaitOptions } from "./harness.ts";

export type { ReplyFields } from "../../src/client/client-codec.ts";

/** A request body: a map to encode as MessagePack, or bytes sent exactly as given. */
export type WireBody = Readonly<Record<string, unknown>> | Uint8Array;

const replyTimeoutMsDefault = 10_000;

function bodyBytes(body: WireBody): Uint8Array {
  return body instanceof Uint8Array ? body : encodeRequest(body);
}

/** Decodes reply frames, throwing when they break the protocol (a test failure, not a retry). */
function replyFrom(frames: readonly Buffer[], endpoint: string): ReplyFields {
  const reply = decodeReply(frames);
  if (typeof reply === "string") throw new Error(`${endpoint} sent a reply that breaks the protocol: ${reply}`);
  return reply;
}

/** The client endpoint of server `id` in `cluster`'s config. */
export function clientEndpointOf(cluster: TestCluster, id: number): string {
  const server = cluster.config.servers.find((candidate) => candidate.id === id);
  if (server === undefined) throw new RangeError(`server ${id} is not in the config`);
  return server.client;
}

/**
 * A REQ socket to one server, for a strict request/reply sequence. A request
 * not answered within `timeoutMs` rejects, and the socket must not be used
 * again (a REQ socket whose reply is lost is stuck).
 */
export class WireRequester {
  readonly #socket: Request;

  constructor(
    readonly endpoint: string,
    timeoutMs = replyTimeoutMsDefault,
  ) {
    this.#socket = new Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
    this.#socket.connect(endpoint);
  }

  /** Sends one request (a map, or raw bytes), or several frames as one message, and returns the decoded reply. */
  async request(body: WireBody | readonly Uint8Array[]): Promise<ReplyFields> {
    await this.send(body);
    return this.receive();
  }

  /** Sends without reading the reply: for a test in which the reply is lost. */
  async send(body: WireBody | readonly Uint8Array[]): Promise<void> {
    await this.#socket.send(Array.isArray(body) ? body : bodyBytes(body as WireBody));
  }

  async receive(): Promise<ReplyFields> {
    try {
      return replyFrom(await this.#socket.receive(), this.endpoint);
    } catch (error) {
      throw new Error(`no reply from ${this.endpoint}: ${(error as Error).message}`, { cause: error });
    }
  }

  close(): void {
    this.#socket.close();
  }
}

/**
 * A DEALER socket to one server: it may pipeline requests and send any
 * envelope. `send` adds the empty delimiter frame a REQ socket would;
 * `sendFrames` sends exactly the frames given.
 */
export class WireDealer {
  readonly #socket: Dealer;

  constructor(
    readonly endpoint: string,
    timeoutMs = replyTimeoutMsDefault,
  ) {
    this.#socket = new Dealer({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
    this.#socket.connect(endpoint);
  }

  /** One request with the delimiter frame: `[empty, body...]`. */
  async send(...bodies: readonly Uint8Array[]): Promise<void> {
    await this.#socket.send([new Uint8Array(0), ...bodies]);
  }

  /** Any frames, without a delimiter. */
  async sendFrames(frames: readonly Uint8Array[]): Promise<void> {
    await this.#socket.send([...frames]);
  }

  /** The next reply, checked to come as `[empty, body]`. */
  async receive(): Promise<ReplyFields> {
    let frames: Buffer[];
    try {
      frames = await this.#socket.receive();
    } catch (error) {
      throw new Error(`no reply from ${this.endpoint}: ${(error as Error).message}`, { cause: error });
    }
    const [delimiter, ...body] = frames;
    if (delimiter === undefined || delimiter.length !== 0) throw new Error(`${this.endpoint} sent a reply without the empty delimiter frame`);
    return replyFrom(body, this.endpoint);
  }

  /** Receives replies until one echoes `rid`; returns it with every reply received before it. */
  async receiveUntilRid(rid: unknown): Promise<{ readonly reply: ReplyFields; readonly before: readonly ReplyFields[] }> {
    const before: ReplyFields[] = [];
    for (;;) {
      const reply = await this.receive();
      if (reply.rid === rid) return { reply, before };
      before.push(reply);
    }
  }

  close(): void {
    this.#socket.close();
  }
}

/** One request to one server over a fresh REQ socket; rejects when no reply comes within `timeoutMs`. */
export async function requestOnce(endpoint: string, body: WireBody, timeoutMs = replyTimeoutMsDefault): Promise<ReplyFields> {
  const requester = new WireRequester(endpoint, timeoutMs);
  try {
    return await requester.request(body);
  } finally {
    requester.close();
  }
}

/** The codes after which the same request, sent again to whoever leads, is the right thing to do. */
const retryableCodes: ReadonlySet<unknown> = new Set(["NOT_LEADER", "NO_LEADER", "TIMEOUT", "SHUTTING_DOWN"]);

/** A reply and the server that sent it. */
export interface LeaderReply {
  readonly reply: ReplyFields;
  readonly serverId: number;
}

/**
 * Sends the same request, byte for byte, to the current leader until an
 * answer other than "not here / not now" comes back (success or
 * BAD_REQUEST), as a client retrying with the same `client` and `seq` does.
 * Each attempt asks the server that a majority names as leader.
 */
export async function requestLeader(cluster: TestCluster, body: WireBody, options: WaitOptions = {}): Promise<LeaderReply> {
  const bytes = bodyBytes(body);
  return waitFor(
    async () => {
      const leader = await cluster.findLeader({ timeoutMs: 2_000 });
      const reply = await requestOnce(clientEndpointOf(cluster, leader.id), bytes, 2_000);
      if (!reply.ok && retryableCodes.has(reply.error)) throw new Error(`server ${leader.id} answered ${String(reply.error)}: ${String(reply.message)}`);
      return { reply, serverId: leader.id };
    },
    { timeoutMs: 30_000, what: "an answer from the leader", ...options },
  );
}
