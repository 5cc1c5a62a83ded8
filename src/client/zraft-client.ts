import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterConfig } from "../config/cluster-config.ts";
import { CompactedError, ZraftError, isErrorCode } from "../protocol/errors.ts";
import { watchWaitMsDefault } from "../protocol/limits.ts";
import { assertNever } from "../base/assert.ts";
import { decodeReply, encodeRequest } from "./client-codec.ts";
import { requireCurve, type CurveClientKeys } from "../net/curve-security.ts";
import { LazyPirateSocket } from "./lazy-pirate-socket.ts";
import {
  checkReply,
  type CasReply,
  type ClientOp,
  type DeleteReply,
  type GetReply,
  type ListReply,
  type PutReply,
  type ReplyByOp,
  type StatusReply,
  type WatchEvent,
  type WatchReply,
} from "./reply-shapes.ts";

export type { CasReply, DeleteReply, GetReply, ListReply, PutReply, ServerRole, StatusReply, WatchEvent, WatchReply } from "./reply-shapes.ts";

export interface ZraftClientOptions {
  /** The cluster: its `servers`, and whether it has a `curve` section. */
  readonly config: ClusterConfig;
  /**
   * CURVE (docs/protocol.md §10): the cluster's public key (`curve.publicKey`
   * of the config) and this client's own key pair. Required when the config
   * has a `curve` section; the client then talks CURVE to every server, and
   * plaintext only when this is absent.
   */
  readonly curve?: CurveClientKeys;
  /** The server to ask first (default: the first one in the config). */
  readonly serverId?: number;
  /** How long one attempt waits for a reply before the server counts as not answering (default 1000). */
  readonly requestTimeoutMs?: number;
  /** How long one operation may take, retries included, before it fails with TIMEOUT (default 10000). */
  readonly deadlineMs?: number;
  /** The first wait after NO_LEADER or TIMEOUT (default 50); it doubles on each retry ... */
  readonly backoffMsMin?: number;
  /** ... up to this (default 1000). Each wait is drawn from [half, all] of the current step. */
  readonly backoffMsMax?: number;
}

/** The client was told to ask another server, the leader. */
export interface RedirectEvent {
  /** The server that redirected (null when its id is unknown). */
  readonly from: number | null;
  /** The leader's id (null when the reply did not give it). */
  readonly to: number | null;
  /** The leader's client endpoint. */
  readonly endpoint: string;
}

/** The client is waiting before it tries again. */
export interface RetryEvent {
  /** NO_LEADER: an election is under way (or the server knows no leader); TIMEOUT: the write was not confirmed in time. */
  readonly reason: "NO_LEADER" | "TIMEOUT";
  /** Which attempt of this operation just failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  /** The server that answered. */
  readonly server: number | null;
}

/** The client gave up on one server and turned to another. */
export interface FailoverEvent {
  readonly from: number | null;
  readonly to: number | null;
  /** The endpoint the client turns to. */
  readonly endpoint: string;
  /**
   * no-reply: nothing within the request timeout, or at once when the
   * connection was refused (nothing listens there: the server is not
   * running); disconnected: the server dropped the connection while the
   * request was outstanding (a server that was killed, whose kernel reset
   * its connections), or still refused it after dropping it; shutting-down:
   * the server said so; bad-reply: the reply broke the protocol;
   * bad-endpoint: the endpoint cannot be connected to. A write is sent on
   * with the same client and seq whatever the reason.
   */
  readonly reason: "no-reply" | "disconnected" | "shutting-down" | "bad-reply" | "bad-endpoint";
}

/** The events a ZraftClient emits, so that a user interface can tell what is happening. */
export interface ZraftClientEvents {
  redirect: [RedirectEvent];
  retry: [RetryEvent];
  failover: [FailoverEvent];
}

/** A server the client can talk to; `id` is null for an endpoint not in the config. */
interface ServerRef {
  readonly id: number | null;
  readonly endpoint: string;
}

/** How one operation is sent: to one server only (`pinned`, once, within `pinnedTimeoutMs`), and how long a server may hold it (`holdMs`, a watch's). */
interface PerformOptions {
  readonly pinned?: ServerRef;
  readonly pinnedTimeoutMs?: number;
  readonly holdMs?: number;
}

/** How often an operation asks a server again that names a leader known to have dropped the connection, before it follows the redirect. */
const staleRedirectsMax = 10;

const defaults = { requestTimeoutMs: 1000, deadlineMs: 10_000, backoffMsMin: 50, backoffMsMax: 1000 } as const;

/**
 * A client of a zraft cluster (docs/protocol.md §9), with the Lazy Pirate pattern
 * of the ZeroMQ Guide (chapter 4): a REQ socket per attempt that is thrown
 * away after a timeout, failover to the next server in the config when one
 * does not answer (at once, without waiting out the timeout, when the server
 * drops the connection: see LazyPirateSocket), `NOT_LEADER` redirects
 * followed to the leader, and `NO_LEADER`/`TIMEOUT` retried after a
 * jittered exponential backoff, all within one deadline per operation.
 *
 * Writes carry this client's random session id and a sequence number that
 * grows by one per write and stays the same across the retries of one write,
 * so a write takes effect at most once however often it is retried.
 *
 * Concurrency: one ZraftClient holds one socket and runs one operation at a
 * time; calls made while one is running wait in a FIFO queue. Use several
 * clients for parallel requests.
 *
 * A server that refuses the connection (nothing listens there) is left at
 * once, like one that drops it. A client that has never had a reply from
 * the cluster and finds every server refusing, one after the other, fails
 * at once: the cluster is not running. Once it has heard from the cluster,
 * it takes such a round for a restart and keeps trying, paced, until the
 * deadline.
 *
 * Failures reject with ZraftError: `BAD_REQUEST` as the server said it, or
 * for a value MessagePack cannot hold (an integer beyond 64 bits); `TIMEOUT`
 * when the deadline passes or the cluster is not running. Its message says
 * why, from what each server did during the operation: no server runs (with
 * a hint to start the cluster), or fewer than a majority answer, which
 * ones do and what the others did, so no leader can be elected; else the
 * last problem. After a TIMEOUT a write may or may not have taken effect;
 * calling the method again is a new write with a new seq, so read before
 * writing again if it matters.
 * `status(id)` asks one given server once and fails at once: ZraftError
 * with the server's code, `TIMEOUT` when it does not answer, refuses or
 * drops the connection, a plain Error when its reply breaks the protocol.
 * Every method rejects with a plain Error after `close()`, and with
 * SocketLimitError when this process cannot open one more ZeroMQ socket.
 */
export class ZraftClient extends EventEmitter<ZraftClientEvents> {
  /** This client's session id: 16 random hex characters. */
  #sessionId = newSessionId();
  readonly #servers: readonly ServerRef[];
  readonly #requestTimeoutMs: number;
  readonly #deadlineMs: number;
  readonly #backoffMsMin: number;
  readonly #backoffMsMax: number;
  readonly #curve: CurveClientKeys | undefined;
  /** The server the next operation goes to first: the last one that answered successfully. */
  #current: ServerRef;
  #socket: LazyPirateSocket | undefined;
  /**
   * Endpoints whose server dropped this client's connection, and that have not
   * been connected to since: a follower may still redirect to a leader that was
   * killed, and the fresh socket to it then fails over at once when refused.
   */
  readonly #droppedEndpoints = new Set<string>();
  /** Whether any server has ever replied to this client: until then, every server refusing means the cluster is not running. */
  #heardFromCluster = false;
  #lastSeq = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** What this client was made with, for the clients its watches poll with. */
  readonly #options: ZraftClientOptions;
  /** The clients of the watches running. */
  readonly #pollers = new Set<ZraftClient>();

  /**
   * @throws Error when the config has a `curve` section and `curve` is not given
   * @throws CurveUnavailableError when `curve` is given and libzmq was built without CURVE
   */
  constructor(options: ZraftClientOptions) {
    super();
    this.#options = options;
    if (options.config.curve !== undefined && options.curve === undefined) {
      // Plaintext to a CURVE cluster would only ever time out: say why at once instead.
      throw new Error("the cluster config has a curve section: the client needs a key pair (ZraftClient option curve)");
    }
    if (options.curve !== undefined) requireCurve();
    this.#curve = options.curve;
    this.#servers = options.config.servers.map((server) => ({ id: server.id, endpoint: server.client }));
    const first = options.serverId === undefined ? this.#servers[0] : this.#servers.find((server) => server.id === options.serverId);
    if (first === undefined) throw new RangeError(`server ${options.serverId ?? "(first)"} is not in the config`);
    this.#current = first;
    this.#requestTimeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs ?? defaults.requestTimeoutMs);
    this.#deadlineMs = positive("deadlineMs", options.deadlineMs ?? defaults.deadlineMs);
    this.#backoffMsMin = positive("backoffMsMin", options.backoffMsMin ?? defaults.backoffMsMin);
    this.#backoffMsMax = Math.max(this.#backoffMsMin, positive("backoffMsMax", options.backoffMsMax ?? defaults.backoffMsMax));
  }

  /** The id of the server the next operation will try first (null if it is not in the config). */
  get currentServerId(): number | null {
    return this.#current.id;
  }

  /** This client's session id: 16 random hex characters, renewed when the cluster reports the session expired. */
  get sessionId(): string {
    return this.#sessionId;
  }

  /** The last sequence number given to a write (0 before the first). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  put(key: string, value: unknown): Promise<PutReply> {
    return this.#write("put", { key, value });
  }

  /** Reads a key; linearizable unless `stale`, which lets a follower answer from its own state. */
  get(key: string, options: { readonly stale?: boolean } = {}): Promise<GetReply> {
    return this.#enqueue(() => this.#perform("get", { op: "get", key, stale: options.stale }));
  }

  delete(key: string): Promise<DeleteReply> {
    return this.#write("delete", { key });
  }

  /**
   * One page of the keys under `prefix` (all keys when absent), in order,
   * with their values: at most `limit`, and at most the server's page size
   * (docs/protocol.md §4); `more` says whether further keys follow. With
   * `after`, the page starts after that key.
   */
  list(prefix?: string, limit?: number, options: { readonly stale?: boolean; readonly after?: string } = {}): Promise<ListReply> {
    return this.#enqueue(() => this.#perform("list", { op: "list", prefix, limit, after: options.after, stale: options.stale }));
  }

  /**
   * Every key under `prefix` (at most `limit` in all), page after page, as
   * one reply. Each page is read on its own: writes that land between two
   * pages may show in the later one or not at all.
   */
  async listAll(prefix?: string, options: { readonly limit?: number; readonly stale?: boolean } = {}): Promise<ListReply> {
    const entries: (readonly [string, unknown])[] = [];
    let after: string | undefined;
    for (;;) {
      const remaining = options.limit === undefined ? undefined : options.limit - entries.length;
      const page = await this.list(prefix, remaining, { ...(options.stale === undefined ? {} : { stale: options.stale }), ...(after === undefined ? {} : { after }) });
      entries.push(...page.entries);
      const last = page.entries.at(-1);
      const done = !page.more || last === undefined || (options.limit !== undefined && entries.length >= options.limit);
      if (done) return { ...page, entries, more: page.more && last !== undefined };
      after = last[0];
    }
  }

  /** Sets `key` to `value` if it now holds `expected`; `expected` null means "if the key is absent". */
  cas(key: string, expected: unknown, value: unknown): Promise<CasReply> {
    return this.#write("cas", { key, expect: expected, value });
  }

  /**
   * The status of server `serverId` (only that server is asked, once), or,
   * without an id, of whichever server answers first.
   */
  status(serverId?: number, options: { readonly timeoutMs?: number } = {}): Promise<StatusReply> {
    let pinned: ServerRef | undefined;
    if (serverId !== undefined) {
      pinned = this.#servers.find((server) => server.id === serverId);
      if (pinned === undefined) return Promise.reject(new RangeError(`server ${serverId} is not in the config`));
    }
    return this.#enqueue(() =>
      this.#perform("status", { op: "status" }, { ...(pinned === undefined ? {} : { pinned }), ...(options.timeoutMs === undefined ? {} : { pinnedTimeoutMs: options.timeoutMs }) }),
    );
  }

  /**
   * One page of the changes to keys under `prefix` (all keys when absent)
   * applied at index `from` or later (from the answering server's next
   * entry when absent), in log order: at most `limit` events, and at most
   * the server's page size (docs/protocol.md §4). Any server answers, from
   * its own applied state; with nothing to report yet it holds the request
   * up to `waitMs` (default 10 s; 0: answer at once). Pass the reply's
   * `next` as `from` to read on. Rejects with CompactedError when the
   * server no longer holds the changes at `from`.
   */
  watchPage(prefix?: string, options: { readonly from?: number; readonly limit?: number; readonly waitMs?: number } = {}): Promise<WatchReply> {
    const waitMs = options.waitMs ?? watchWaitMsDefault;
    return this.#enqueue(() => this.#perform("watch", { op: "watch", prefix, from: options.from, limit: options.limit, waitMs }, { holdMs: waitMs }));
  }

  /**
   * Every change to keys under `prefix` (all keys when empty) in log order,
   * from index `from` on (from the next change when absent), until `signal`
   * aborts or the caller stops iterating; like `etcdctl watch --prefix
   * --rev`. It long-polls with watchPage on a client of its own, so that
   * this client's other operations do not queue behind it, and resumes
   * each poll at the `next` of the last: a server that dies is left for
   * another (failover as for any operation), which goes on from there,
   * since indexes are the cluster's. Throws CompactedError when a server no
   * longer holds the changes it must go on from, and ZraftError (TIMEOUT)
   * when no server answers a poll within its deadline.
   */
  async *watch(prefix = "", options: { readonly from?: number; readonly signal?: AbortSignal } = {}): AsyncGenerator<WatchEvent, void, undefined> {
    this.#assertOpen();
    const { signal } = options;
    const aborted = (): boolean => signal?.aborted === true;
    const poller = new ZraftClient({ ...this.#options, ...(this.#current.id === null ? {} : { serverId: this.#current.id }) });
    poller.on("failover", (event) => this.emit("failover", event));
    poller.on("retry", (event) => this.emit("retry", event));
    this.#pollers.add(poller);
    // Closing the poller ends the poll in progress at once.
    const stop = (): void => poller.close();
    signal?.addEventListener("abort", stop, { once: true });
    try {
      let from = options.from;
      while (!aborted()) {
        let page: WatchReply;
        try {
          page = await poller.watchPage(prefix, from === undefined ? {} : { from });
        } catch (error) {
          if (aborted()) return;
          throw error;
        }
        for (const event of page.events) yield event;
        from = page.next;
      }
    } finally {
      signal?.removeEventListener("abort", stop);
      this.#pollers.delete(poller);
      poller.close();
    }
  }

  /** Closes the socket, and those of the watches running. Operations still running or queued reject. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#socket?.close();
    this.#socket = undefined;
    for (const poller of this.#pollers) poller.close();
  }

  #write<Op extends "put" | "delete" | "cas">(op: Op, fields: Readonly<Record<string, unknown>>): Promise<ReplyByOp[Op]> {
    const attempt = (): Promise<ReplyByOp[Op]> => {
      // Taken when the write starts, not when it is queued, so the server sees seqs grow in the order it receives writes.
      this.#lastSeq += 1;
      return this.#perform(op, { op, ...fields, client: this.#sessionId, seq: this.#lastSeq });
    };
    return this.#enqueue(async () => {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof SessionExpired)) throw error;
        // docs/protocol.md §8: the session was forgotten; later writes go under a new one, which starts at seq 1.
        this.#sessionId = newSessionId();
        this.#lastSeq = 0;
        if (error.mayHaveApplied) {
          throw new ZraftError("SESSION_EXPIRED", `${error.message}; an earlier attempt may have taken effect, so whether this write did is unknown`);
        }
        // Every attempt was refused before it could take effect: sending it again under the new session is safe.
        return attempt();
      }
    });
  }

  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Sends one request until a server gives a final answer or the deadline
   * passes (see PerformOptions).
   */
  async #perform<Op extends ClientOp>(op: Op, request: Readonly<Record<string, unknown>>, options: PerformOptions = {}): Promise<ReplyByOp[Op]> {
    const { pinned, pinnedTimeoutMs = this.#requestTimeoutMs, holdMs = 0 } = options;
    /** A server that may hold the request gets that long on top of the usual wait, and so does the operation. */
    const attemptMs = this.#requestTimeoutMs + holdMs;
    this.#assertOpen();
    let message: Buffer;
    try {
      message = encodeRequest(request);
    } catch (error) {
      throw new ZraftError("BAD_REQUEST", `the request cannot be encoded as MessagePack: ${(error as Error).message}`, { cause: error });
    }
    const deadline = performance.now() + (pinned === undefined ? this.#deadlineMs + holdMs : pinnedTimeoutMs);
    let target = pinned ?? this.#current;
    let attempt = 0;
    let backoffMs = this.#backoffMsMin;
    let redirectsInARow = 0;
    /** Redirects to a leader this client saw drop its connection, answered by asking the same server again. */
    let staleRedirects = 0;
    /** Servers that dropped or refused the connection one after the other; a full round of them means waiting before the next. */
    let goneInARow = 0;
    let lastProblem = "";
    /** Whether an attempt may have reached the log: its server did not answer, dropped the connection, broke the protocol, or answered TIMEOUT. */
    let mayHaveApplied = false;
    /** What each server of the config did last in this operation, to say why it failed. */
    const outcomes = new ServerOutcomes(this.#servers, this.#requestTimeoutMs);

    /** `reached`: whether the request may have reached the server (not when it refused the connection). */
    const failOver = (reason: FailoverEvent["reason"], problem: string, reached = reason === "no-reply" || reason === "disconnected" || reason === "bad-reply"): void => {
      lastProblem = problem;
      if (reached) mayHaveApplied = true;
      if (pinned !== undefined) throw reason === "no-reply" || reason === "disconnected" ? new ZraftError("TIMEOUT", problem) : new Error(problem);
      const next = this.#serverAfter(target);
      this.emit("failover", { from: target.id, to: next.id, endpoint: next.endpoint, reason });
      target = next;
    };
    /** Waits `delayMs`, or until the deadline if that comes first. */
    const wait = async (delayMs: number): Promise<void> => {
      await sleep(Math.max(0, Math.min(delayMs, deadline - performance.now())));
      this.#assertOpen();
    };
    /** A delay drawn from [half, all] of the current backoff step, which then doubles. */
    const nextBackoffMs = (): number => {
      const delayMs = Math.round(backoffMs / 2 + (Math.random() * backoffMs) / 2);
      backoffMs = Math.min(backoffMs * 2, this.#backoffMsMax);
      return delayMs;
    };
    const backOff = async (reason: RetryEvent["reason"]): Promise<void> => {
      const delayMs = nextBackoffMs();
      this.emit("retry", { reason, attempt, delayMs, server: target.id });
      await wait(delayMs);
      redirectsInARow = 0;
    };
    /** A wait like backOff's, without a retry event: no server answered anything to retry. */
    const pause = (): Promise<void> => wait(nextBackoffMs());

    const gaveUp = (): ZraftError =>
      new ZraftError("TIMEOUT", outcomes.whyNoLeader() ?? `no final answer within ${this.#deadlineMs} ms after ${attempt} attempts (last: ${lastProblem})`);

    for (;;) {
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) throw gaveUp();
      attempt += 1;
      /** Whether the deadline leaves this attempt less than its usual time (`pinned` has only the one). */
      const cutShort = pinned === undefined && remainingMs < attemptMs;
      const attemptTimeoutMs = Math.ceil(pinned === undefined ? Math.min(attemptMs, remainingMs) : remainingMs);
      const exchange = await this.#socketFor(target).exchange(message, attemptTimeoutMs);
      if (exchange.kind === "no-reply" && exchange.cause !== "timeout") {
        if (exchange.cause === "refused") {
          outcomes.record(target, "refused");
          // The request never left this process: not reached. Reported as no-reply, the reason a user sees as "not answering".
          failOver("no-reply", `${describe(target)} refused the connection (nothing listens there)`, false);
          if (!this.#heardFromCluster && outcomes.everyServerRefused()) throw new ZraftError("TIMEOUT", outcomes.notRunning());
        } else {
          outcomes.record(target, "dropped");
          failOver("disconnected", `${describe(target)} closed the connection`);
        }
        goneInARow += 1;
        // Each refusal or drop moves on at once. When every server does it (a cluster restarting, or one that
        // closes the connection on a request it cannot take), wait between rounds rather than spin until the deadline.
        if (goneInARow % this.#servers.length === 0) await pause();
        continue;
      }
      goneInARow = 0;
      if (exchange.kind === "no-reply") {
        if (cutShort) {
          // The deadline cut this attempt short (it has passed, give or take libzmq's timer): that says nothing
          // about the server, no other server is tried (so no failover event), and the last real problem stands.
          throw gaveUp();
        }
        outcomes.record(target, "silent");
        failOver("no-reply", `${describe(target)} did not answer within ${attemptTimeoutMs} ms`);
        continue;
      }
      if (exchange.kind === "bad-endpoint") {
        outcomes.record(target, "bad-endpoint");
        failOver("bad-endpoint", `cannot connect to ${target.endpoint}: ${exchange.problem}`);
        continue;
      }
      const decoded = decodeReply(exchange.frames);
      const reply = typeof decoded === "string" ? decoded : checkReply(op, decoded);
      if (typeof reply === "string") {
        outcomes.record(target, "broken");
        failOver("bad-reply", `${describe(target)} broke the protocol: ${reply}`);
        continue;
      }
      this.#heardFromCluster = true;
      outcomes.record(target, !reply.ok && reply.error === "SHUTTING_DOWN" ? "shutting-down" : "answers");
      if (reply.ok) {
        if (pinned === undefined) this.#current = target;
        return reply;
      }
      lastProblem = `${describe(target)} answered ${reply.error}: ${reply.message}`;
      if (!isErrorCode(reply.error)) {
        outcomes.record(target, "broken");
        failOver("bad-reply", `${describe(target)} answered with an unknown error code ${JSON.stringify(reply.error)}`);
        continue;
      }
      if (pinned !== undefined || reply.error === "BAD_REQUEST") throw new ZraftError(reply.error, reply.message);
      switch (reply.error) {
        case "NOT_LEADER": {
          const leader = reply.leader;
          if (leader !== undefined && this.#droppedEndpoints.has(leader) && staleRedirects < staleRedirectsMax) {
            // The leader it names dropped this client's connection: the server has not noticed yet, and once it
            // has it holds the request until a leader is elected (docs/protocol.md §5). Ask it again shortly,
            // at the first backoff step: a growing backoff would sleep through the election.
            staleRedirects += 1;
            this.emit("retry", { reason: "NO_LEADER", attempt, delayMs: this.#backoffMsMin, server: target.id });
            await wait(this.#backoffMsMin);
            continue;
          }
          // A redirect to itself, or an endless chain of redirects, means no leader is settled yet.
          if (leader !== undefined && leader !== target.endpoint && redirectsInARow < this.#servers.length) {
            const to = this.#refFor(leader, reply.leaderId ?? null);
            this.emit("redirect", { from: target.id, to: to.id, endpoint: to.endpoint });
            target = to;
            redirectsInARow += 1;
            continue;
          }
          await backOff("NO_LEADER");
          target = this.#serverAfter(target);
          break;
        }
        case "NO_LEADER":
          // Move on as well: a server cut off from the majority would never learn of the leader.
          await backOff("NO_LEADER");
          target = this.#serverAfter(target);
          break;
        case "TIMEOUT":
          // Same server, same seq: the leader will answer with the original reply if the write did commit.
          mayHaveApplied = true;
          await backOff("TIMEOUT");
          break;
        case "SHUTTING_DOWN":
          failOver("shutting-down", lastProblem);
          break;
        case "SESSION_EXPIRED":
          throw new SessionExpired(reply.message, mayHaveApplied);
        case "COMPACTED":
          throw new CompactedError(reply.message, reply.oldest as number);
        default:
          assertNever(reply.error, "error code");
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("the ZraftClient is closed");
  }

  /** The socket to `target`, replacing the one to any other server (only one is kept). */
  #socketFor(target: ServerRef): LazyPirateSocket {
    if (this.#socket?.endpoint !== target.endpoint) {
      const previous = this.#socket;
      if (previous !== undefined) {
        if (previous.dropped) this.#droppedEndpoints.add(previous.endpoint);
        else this.#droppedEndpoints.delete(previous.endpoint);
        previous.close();
      }
      this.#socket = new LazyPirateSocket(target.endpoint, this.#curve, { dropped: this.#droppedEndpoints.has(target.endpoint), refusalEndsExchange: true });
    }
    return this.#socket;
  }

  /** The next server in config order after `server` (the first one when `server` is not in the config). */
  #serverAfter(server: ServerRef): ServerRef {
    const index = this.#servers.findIndex((candidate) => candidate.endpoint === server.endpoint);
    return this.#servers[(index + 1) % this.#servers.length] as ServerRef;
  }

  #refFor(endpoint: string, leaderId: number | null): ServerRef {
    return this.#servers.find((server) => server.endpoint === endpoint) ?? { id: leaderId, endpoint };
  }
}

const newSessionId = (): string => randomBytes(8).toString("hex");

/** A write refused because its session is not known any more; `mayHaveApplied` when an earlier attempt of it may have taken effect. */
class SessionExpired extends ZraftError {
  constructor(
    message: string,
    readonly mayHaveApplied: boolean,
  ) {
    super("SESSION_EXPIRED", message);
  }
}

/** What a server did at its last attempt of an operation. */
type Outcome = "answers" | "refused" | "dropped" | "silent" | "shutting-down" | "broken" | "bad-endpoint";

/**
 * What each server of the config did last during one operation, so that an
 * operation that fails says why: the cluster is not running, or too few
 * servers answer to elect a leader (Raft needs a majority, paper §5.2), and
 * which.
 */
class ServerOutcomes {
  /** By server id; endpoints outside the config (a leader named by a redirect) do not count towards a majority. */
  readonly #last = new Map<number, Outcome>();

  constructor(
    private readonly servers: readonly ServerRef[],
    private readonly requestTimeoutMs: number,
  ) {}

  record(server: ServerRef, outcome: Outcome): void {
    if (server.id !== null) this.#last.set(server.id, outcome);
  }

  everyServerRefused(): boolean {
    return this.servers.every((server) => server.id !== null && this.#last.get(server.id) === "refused");
  }

  /** The cluster is not running: every server refused the connection. */
  notRunning(): string {
    const endpoints = this.servers.map((server) => server.endpoint).join(", ");
    return `no server is running: all ${this.servers.length} refused the connection (${endpoints}); start the cluster with npm start`;
  }

  /** Why no leader can answer, when the outcomes show it: no server runs, or fewer than a majority answer. */
  whyNoLeader(): string | undefined {
    if (this.everyServerRefused()) return this.notRunning();
    const count = this.servers.length;
    const majority = Math.floor(count / 2) + 1;
    const ids = (outcome: Outcome | undefined): number[] => this.servers.flatMap((server) => (server.id !== null && this.#last.get(server.id) === outcome ? [server.id] : []));
    const answering = ids("answers");
    if (answering.length >= majority) return undefined;
    const others = outcomeWords(this.requestTimeoutMs).flatMap(([outcome, words]) => {
      const which = ids(outcome);
      return which.length === 0 ? [] : [`${serverList(which)} ${words}`];
    });
    const answered = answering.length === 0 ? "" : ` (${answering.join(", ")})`;
    return `no leader: ${answering.length} of ${count} servers answer${answered}; a majority needs ${majority}: ${others.join(", ")}`;
  }
}

/**
 * How the message names each way of not answering, in the order it lists
 * them, in words that fit one server or several; undefined: not asked, or
 * asked only as the deadline passed.
 */
const outcomeWords = (requestTimeoutMs: number): readonly (readonly [Outcome | undefined, string])[] => [
  ["refused", "refused the connection (not running)"],
  ["dropped", "closed the connection"],
  ["silent", `did not answer within ${requestTimeoutMs} ms`],
  ["shutting-down", "answered SHUTTING_DOWN"],
  ["broken", "broke the protocol"],
  ["bad-endpoint", "could not be connected to"],
  [undefined, "gave no answer before the deadline"],
];

/** "server 2", "servers 2 and 4", "servers 2, 4 and 5". */
function serverList(ids: readonly number[]): string {
  if (ids.length === 1) return `server ${ids[0]}`;
  return `servers ${ids.slice(0, -1).join(", ")} and ${ids.at(-1)}`;
}

function describe(server: ServerRef): string {
  return server.id === null ? server.endpoint : `server ${server.id} (${server.endpoint})`;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`ZraftClient option ${name} must be a positive number, got ${value}`);
  return value;
}
