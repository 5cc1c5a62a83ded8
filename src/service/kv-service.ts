/**
 * The KV service: what a server does with one client request. It parses and
 * validates the request (the protocol), turns it into a proposal or a read
 * on the Raft runtime (through the mapping in kv-mapping.ts), and turns how
 * that ended into exactly one reply. A request passes down once and its
 * answer comes back once (docs/architecture.md §5).
 */
import { assertNever } from "../base/assert.ts";
import type { Logger } from "../base/logger.ts";
import type { ClusterConfig } from "../config/cluster-config.ts";
import { encodeCommand } from "../kv/commands.ts";
import type { KvAnswer, KvQuery } from "../kv/kv-query.ts";
import type { KvResult } from "../kv/kv-result.ts";
import type { SessionReader } from "../kv/sessions.ts";
import { encodeReply, errorReply, okReply, type PlainErrorCode, type Reply, type ReplyContext } from "../protocol/client-reply.ts";
import { parseRequest, type AdminRequest, type Request, type WatchRequest, type WriteRequest } from "../protocol/client-request.ts";
import type { MembershipChange, NodeId } from "../raft/index.ts";
import type { MembershipOutcome, ProposalOutcome, RaftServer, ReadOutcome, Refusal, TransferOutcome } from "../runtime/raft-server.ts";
import { InFlightWrites } from "./in-flight-writes.ts";
import { MemberView } from "./member-view.ts";
import { SnapshotChunks } from "./snapshot-chunks.ts";
import { commandOf, queryOf, replyOfAnswer, replyOfResult, watchQueryOf, type ReadRequest } from "./kv-mapping.ts";

/** Where replies go: the client endpoint. `Handle` says which client asked. */
export interface ClientReplier<Handle> {
  reply(handle: Handle, bytes: Uint8Array): void;
}

export interface KvServiceOptions<Handle> {
  readonly id: NodeId;
  /** This server's process id, for status replies (so that an operator can signal exactly the leader). */
  readonly pid: number;
  /** How long this server has run, in ms, for status replies. */
  readonly uptimeMs: () => number;
  readonly cluster: ClusterConfig;
  readonly runtime: RaftServer<KvQuery, KvAnswer, KvResult>;
  /** The store's sessions, to answer a retry of an applied write without proposing it again. */
  readonly sessions: SessionReader;
  readonly clients: ClientReplier<Handle>;
  readonly logger: Logger;
  /** An admin `shutdown` was answered: the process should stop as on SIGTERM. */
  readonly onShutdownRequested: () => void;
  /** The wall clock (ms since the epoch), stamped on each proposed command as the store's leader time. */
  readonly wallClockMs: () => number;
}

const unknownOutcome = "it may or may not have taken effect: retry with the same client and seq";

/** A membership change's outcome is unknown: what happened, by reason. */
const unknownChange: Readonly<Record<Extract<MembershipOutcome, { kind: "unknown" }>["reason"], string>> = {
  timeout: "the change was not confirmed in time",
  "leadership-lost": "leadership changed before the change was confirmed",
  "shutting-down": "the server is shutting down before the change was confirmed",
};

export class KvService<Handle> {
  private readonly options: KvServiceOptions<Handle>;
  /** The configuration in force as last read, with its members' endpoints (view()). */
  private memberView: MemberView | null = null;
  /** Requests that already waited for the leadership to settle: they are answered with what is known then. */
  private readonly held = new WeakSet<Request>();
  /** Session writes proposed and not yet settled, with the requests (the first, and retries) waiting for each. */
  private readonly inFlight = new InFlightWrites<{ readonly handle: Handle; readonly request: WriteRequest }>();
  /** The stored snapshot's chunks, for backups. */
  private readonly snapshotChunks: SnapshotChunks;

  constructor(options: KvServiceOptions<Handle>) {
    this.options = options;
    this.snapshotChunks = new SnapshotChunks(() => options.runtime.storedSnapshot());
  }

  /** The configuration in force (dissertation §4.1), read again only when the runtime's has changed. */
  private view(): MemberView {
    const membership = this.options.runtime.membership();
    if (this.memberView?.membership !== membership) this.memberView = new MemberView(this.options.cluster, membership);
    return this.memberView;
  }

  /** One client request: its frames after the routing envelope. Never throws on any input. */
  receive(handle: Handle, frames: readonly Uint8Array[]): void {
    const parsed = parseRequest(frames, { serverIds: this.view().serverIds });
    if (!parsed.ok) return this.send(handle, errorReply("BAD_REQUEST", parsed.message, this.context(parsed.rid)));
    this.serve(handle, parsed.request);
  }

  private serve(handle: Handle, request: Request): void {
    if (this.options.runtime.stopping) return this.refuse(handle, request, { kind: "shutting-down" });
    switch (request.op) {
      case "status":
        return this.answerStatus(handle, request);
      case "get":
      case "list":
        return request.stale ? this.answerRead(handle, request, this.options.runtime.readStale(queryOf(request))) : this.read(handle, request);
      case "put":
      case "delete":
      case "cas":
        return this.write(handle, request);
      case "admin":
        return this.admin(handle, request);
      case "watch":
        return this.watch(handle, request);
      default:
        return assertNever(request, "request");
    }
  }

  /**
   * The controller's actions (docs/protocol.md §4, admin). Anyone who may
   * send requests may send these: with CURVE and curve.clients, only the
   * admitted clients.
   */
  private admin(handle: Handle, request: AdminRequest): void {
    const { runtime, id } = this.options;
    // An action that reports nothing but that it was done.
    const done = (action: "timeout" | "step-down" | "shutdown" | "transfer"): void => this.send(handle, okReply({ op: "admin", action }, this.context(request.rid)));
    switch (request.action) {
      case "timeout":
        return runtime.campaign() ? done("timeout") : this.replyError(handle, request, "BAD_REQUEST", `server ${id} is already the leader`);
      case "step-down":
        return runtime.stepDown() ? done("step-down") : this.redirect(handle, request);
      case "shutdown":
        done("shutdown");
        return this.options.onShutdownRequested();
      case "transfer":
        return runtime.transfer(request.target, (outcome: TransferOutcome) => {
          switch (outcome.kind) {
            case "done":
              return outcome.leaderId === request.target
                ? done("transfer")
                : this.replyError(handle, request, "TIMEOUT", `server ${outcome.leaderId}, not server ${request.target}, took over leadership`);
            case "refused":
              return this.replyError(handle, request, "BAD_REQUEST", `server ${id} cannot hand leadership to server ${request.target}: ${outcome.reason}`);
            case "aborted":
              return this.replyError(
                handle,
                request,
                "TIMEOUT",
                `server ${request.target} did not take over within an election timeout (is it down, cut off or far behind?); server ${id} leads on`,
              );
            default:
              return this.refuse(handle, request, outcome);
          }
        });
      case "snapshot":
        return void runtime.snapshotNow().then((meta) => {
          if (meta === null) return this.refuse(handle, request, { kind: "shutting-down" });
          if (meta.index === 0) return this.replyError(handle, request, "BAD_REQUEST", `server ${id} has applied no entries yet: there is nothing to snapshot`);
          this.send(handle, okReply({ op: "admin", action: "snapshot", snapshotIndex: meta.index, snapshotTerm: meta.term }, this.context(request.rid)));
        });
      case "backup":
        return this.sendChunk(handle, request.chunk, request);
      case "add":
      case "remove":
        return this.changeMembership(handle, request);
      default:
        return assertNever(request, "admin action");
    }
  }

  /**
   * The admin actions `add` and `remove` (docs/protocol.md §4): one
   * single-server change (dissertation §4.1) on the leader, answered once
   * its configuration entry is committed and applied. The new
   * configuration carries every member's client endpoint in its context, so
   * that each server can send clients to any member.
   */
  private changeMembership(handle: Handle, request: AdminRequest & { readonly action: "add" | "remove" }): void {
    const { runtime, id } = this.options;
    // Only the leader changes the configuration: a follower sends the request on before it looks at it.
    const refusal = runtime.admit();
    if (refusal !== null) return this.refuse(handle, request, refusal);
    const { action, target } = request;
    const view = this.view();
    const client = request.action === "add" ? request.client : undefined;
    const holder = client === undefined ? undefined : view.memberAt(client);
    if (holder !== undefined && holder !== target) {
      return this.replyError(handle, request, "BAD_REQUEST", `server ${id} cannot add server ${target} at ${client}: that is server ${holder}'s client endpoint`);
    }
    const context = view.contextAfter(target, client);
    const change: MembershipChange = client === undefined ? { kind: "remove", id: target, context } : { kind: "add-learner", id: target, context };
    runtime.changeMembership(change, (outcome: MembershipOutcome) => {
      switch (outcome.kind) {
        case "done":
          return this.send(handle, okReply({ op: "admin", action, index: outcome.index, members: this.view().members() }, this.context(request.rid)));
        case "refused":
          return this.replyError(handle, request, "BAD_REQUEST", `server ${id} cannot ${action} server ${target}: ${outcome.problem}`);
        case "unknown":
          return this.replyError(handle, request, "TIMEOUT", `${unknownChange[outcome.reason]}; it may or may not have taken effect: the members command shows the configuration in force`);
        default:
          return this.refuse(handle, request, outcome);
      }
    });
  }

  /** The admin action `backup`: one chunk of the stored snapshot, with where that snapshot ends, so that a client sees it change. */
  private sendChunk(handle: Handle, chunk: number, request: AdminRequest): void {
    const found = this.snapshotChunks.chunk(chunk);
    switch (found.kind) {
      case "no-snapshot":
        return this.replyError(handle, request, "BAD_REQUEST", `server ${this.options.id} has no stored snapshot; ask for one first (admin action "snapshot")`);
      case "no-chunk":
        return this.replyError(
          handle,
          request,
          "BAD_REQUEST",
          `the stored snapshot up to entry ${found.meta.index} has ${found.count} chunks (0 to ${found.count - 1}); there is no chunk ${chunk}`,
        );
      case "chunk": {
        const { meta, data, last } = found;
        const fields = { op: "admin", action: "backup", snapshotIndex: meta.index, snapshotTerm: meta.term, chunk, last, data } as const;
        return this.send(handle, okReply(fields, this.context(request.rid)));
      }
      default:
        return assertNever(found, "chunk lookup");
    }
  }

  /** A request the endpoint could not take on (too many in progress): refused at once, rid echoed. */
  refuseOverloaded(handle: Handle, frames: readonly Uint8Array[]): void {
    const parsed = parseRequest(frames, { serverIds: this.view().serverIds });
    const rid = parsed.ok ? parsed.request.rid : parsed.rid;
    this.send(handle, errorReply("TIMEOUT", `server ${this.options.id} has too many requests in progress; retry shortly`, this.context(rid)));
  }

  private answerStatus(handle: Handle, request: Request): void {
    const status = this.options.runtime.status();
    const fields = {
      op: "status",
      id: status.id,
      pid: this.options.pid,
      role: status.role,
      commitIndex: status.commitIndex,
      lastApplied: status.lastApplied,
      lastLogIndex: status.lastLogIndex,
      logStartIndex: status.logStartIndex,
      snapshotIndex: status.snapshotIndex,
      votedFor: status.votedFor,
      uptimeMs: Math.round(this.options.uptimeMs()),
      members: this.view().members(),
    } as const;
    this.send(handle, okReply(fields, this.context(request.rid)));
  }

  private read(handle: Handle, request: ReadRequest): void {
    this.options.runtime.read(queryOf(request), (outcome: ReadOutcome<KvAnswer>) => {
      if (outcome.kind === "answered") return this.answerRead(handle, request, outcome.answer);
      if (outcome.kind === "timeout") return this.replyError(handle, request, "TIMEOUT", `the request was not confirmed in time; ${unknownOutcome}`);
      return this.refuse(handle, request, outcome);
    });
  }

  /**
   * docs/protocol.md §4, watch: any server answers from its own applied
   * state, leader or not, so a watch is never redirected. With nothing to
   * report yet it is held until a change it wants is applied, its `waitMs`
   * passes or the server stops, and then gets the page it has, empty or not.
   */
  private watch(handle: Handle, request: WatchRequest): void {
    const runtime = this.options.runtime;
    let query = watchQueryOf(request);
    const answer = (final: boolean): boolean => {
      const found = runtime.readStale(query);
      if (!final && found.op === "watch" && found.page.kind === "events" && found.page.events.length === 0) {
        // What was applied so far holds nothing for it: the next look starts where this one ended.
        query = { ...query, from: found.page.next };
        return false;
      }
      this.send(handle, replyOfAnswer(found, this.context(request.rid)));
      return true;
    };
    if (!answer(request.waitMs === 0)) runtime.awaitApplied(request.waitMs, answer);
  }

  private write(handle: Handle, request: WriteRequest): void {
    const { runtime, sessions } = this.options;
    // Whether this server may take the write comes first: a follower redirects even a retry it could answer.
    const refusal = runtime.admit();
    if (refusal !== null) return this.refuse(handle, request, refusal);
    if (request.client !== undefined) {
      // A retry of a write this session already applied gets its original reply without a second proposal.
      const cached = sessions.cachedResult(request.client, request.seq);
      if (cached !== null) return this.send(handle, replyOfResult(cached, this.context(request.rid)));
    }
    const session = request.client === undefined ? undefined : { client: request.client, seq: request.seq };
    // A retry of a write still in flight waits for its entry (in-flight-writes.ts).
    if (session !== undefined && this.inFlight.join(session.client, session.seq, { handle, request })) return;
    runtime.propose(encodeCommand(commandOf(request, this.options.wallClockMs())), (outcome: ProposalOutcome<KvResult>) => {
      const waiters = session === undefined ? [{ handle, request }] : this.inFlight.take(session.client, session.seq);
      for (const waiter of waiters) this.answerWrite(waiter.handle, waiter.request, outcome);
    });
  }

  /** How a proposed write ended, as the reply to one request for it. */
  private answerWrite(handle: Handle, request: WriteRequest, outcome: ProposalOutcome<KvResult>): void {
    switch (outcome.kind) {
      case "applied":
        return this.send(handle, replyOfResult(outcome.result, this.context(request.rid)));
      case "unknown":
        return this.replyError(
          handle,
          request,
          "TIMEOUT",
          {
            timeout: `the request was not confirmed in time; ${unknownOutcome}`,
            "leadership-lost": `leadership changed before the write was confirmed; ${unknownOutcome}`,
            "shutting-down": `server ${this.options.id} is shutting down before the write was confirmed; ${unknownOutcome}`,
          }[outcome.reason],
        );
      default:
        return this.refuse(handle, request, outcome);
    }
  }

  private answerRead(handle: Handle, request: ReadRequest, answer: KvAnswer): void {
    this.send(handle, replyOfAnswer(answer, this.context(request.rid)));
  }

  private refuse(handle: Handle, request: Request, refusal: Refusal): void {
    switch (refusal.kind) {
      case "not-leader":
        return this.redirect(handle, request);
      case "overloaded":
        return this.replyError(handle, request, "TIMEOUT", `server ${this.options.id} has ${refusal.pending} requests in progress; retry shortly`);
      case "shutting-down":
        return this.replyError(handle, request, "SHUTTING_DOWN", `server ${this.options.id} is shutting down; try another server`);
      default:
        return assertNever(refusal, "refusal");
    }
  }

  private redirect(handle: Handle, request: Request): void {
    const runtime = this.options.runtime;
    // docs/protocol.md §5: while an election may be under way the request waits for it, once, and is then
    // served afresh: taken on if this server won, sent to the new leader, or answered NO_LEADER.
    if (!this.held.has(request) && runtime.leaderInDoubt() && runtime.awaitLeader(() => this.serve(handle, request))) {
      this.held.add(request);
      return;
    }
    const context = this.context(request.rid);
    if (context.leaderId === null) {
      return this.send(handle, errorReply("NO_LEADER", "no leader is known: an election is under way; retry shortly", context));
    }
    this.options.logger.debug(`redirected a ${request.op} to the leader, server ${context.leaderId}`, { term: context.term });
    this.send(
      handle,
      errorReply("NOT_LEADER", `server ${this.options.id} is not the leader; send the request to server ${context.leaderId} at ${context.leader}`, context),
    );
  }

  private replyError(handle: Handle, request: Request, code: PlainErrorCode, message: string): void {
    this.send(handle, errorReply(code, message, this.context(request.rid)));
  }

  private context(rid: Uint8Array | null): ReplyContext {
    const { term, leaderId } = this.options.runtime.status();
    const leader = leaderId === null ? undefined : this.view().endpoints.get(leaderId);
    return leader === undefined ? { term, leaderId, rid } : { term, leaderId, rid, leader };
  }

  private send(handle: Handle, reply: Reply): void {
    this.options.clients.reply(handle, encodeReply(reply));
  }
}
