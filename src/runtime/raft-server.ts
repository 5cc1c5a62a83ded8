import { assertNever } from "../base/assert.ts";
import type { Logger } from "../base/logger.ts";
import type { ClusterConfig } from "../config/cluster-config.ts";
import { encodeCommand, type KvCommand } from "../kv/commands.ts";
import { describeStaleSeq, type KvResult } from "../kv/kv-result.ts";
import type { KvStateMachine } from "../kv/state-machine.ts";
import {
  encodeReply,
  errorReply,
  okReply,
  parseRequest,
  type ErrorCode,
  type OkFields,
  type Reply,
  type ReplyContext,
  type Request,
  type WriteRequest,
} from "../protocol/client-protocol.ts";
import { type Entry, type HardState, type Message, type NodeId, type RaftNode, type Ready } from "../raft/index.ts";
import type { RaftStorage } from "../storage/storage.ts";
import { PendingRequests, type PendingRequest } from "./pending-requests.ts";

/** Where Raft messages go: the peer transport. */
export interface PeerSender {
  send(messages: readonly Message[]): void;
}

/** Where replies go: the client endpoint. `Handle` says which client asked. */
export interface ClientReplier<Handle> {
  reply(handle: Handle, bytes: Uint8Array): void;
}

export interface RaftServerLimits {
  /** A write or linearizable read not answered in this time gets TIMEOUT. */
  readonly requestTimeoutMs: number;
  /** Requests accepted and not yet answered; past it a request gets TIMEOUT at once. */
  readonly pendingRequestsMax: number;
}

export const raftServerLimitsDefaults: RaftServerLimits = { requestTimeoutMs: 3000, pendingRequestsMax: 20_000 };

export interface RaftServerOptions<Handle> {
  readonly id: NodeId;
  readonly cluster: ClusterConfig;
  readonly node: RaftNode;
  readonly storage: RaftStorage;
  readonly kv: KvStateMachine;
  readonly peers: PeerSender;
  readonly clients: ClientReplier<Handle>;
  readonly logger: Logger;
  readonly limits?: RaftServerLimits;
  /** The monotonic clock, in milliseconds. */
  readonly nowMs: () => number;
  /** Called when storage fails: the server cannot go on without durability. */
  readonly onFatal: (error: unknown) => void;
}

/**
 * The runtime around the Raft core: it feeds the core peer messages, ticks
 * and client proposals, and carries out each Ready in the order that keeps
 * the persistence rule (save, then send, then apply and answer). Inputs
 * arriving in one event-loop turn are handled by one Ready: many proposals
 * become one disk write and one AppendEntries per follower.
 */
export class RaftServer<Handle> {
  private readonly options: RaftServerOptions<Handle>;
  private readonly limits: RaftServerLimits;
  private readonly pending: PendingRequests<Handle>;
  private readonly endpointById: ReadonlyMap<NodeId, string>;
  private readonly serverIds: ReadonlySet<NodeId>;
  private nextReadContext = 1;
  private readyScheduled = false;
  private readyLoop: Promise<void> | null = null;
  private stopping = false;
  private wasLeader = false;
  /** The hard state of the last save (at start-up, what was loaded). */
  private savedHardState: HardState;

  constructor(options: RaftServerOptions<Handle>) {
    this.options = options;
    this.limits = options.limits ?? raftServerLimitsDefaults;
    this.pending = new PendingRequests(this.limits.pendingRequestsMax);
    this.endpointById = new Map(options.cluster.servers.map((server) => [server.id, server.client]));
    this.serverIds = new Set(this.endpointById.keys());
    const { term, votedFor, commitIndex } = options.node.status();
    this.savedHardState = { currentTerm: term, votedFor, commitIndex };
  }

  /** Timer input: elections, heartbeats and request deadlines. */
  tick(): void {
    const nowMs = this.options.nowMs();
    this.options.node.tick(nowMs);
    for (const expired of this.pending.takeExpired(nowMs)) {
      this.replyError(expired, "TIMEOUT", "the request was not confirmed in time; it may or may not have taken effect: retry with the same client and seq");
    }
    this.scheduleReady();
  }

  /** A validated message from a peer. */
  receivePeerMessage(message: Message): void {
    this.options.node.step(message);
    this.scheduleReady();
  }

  /** One client request: its frames after the routing envelope. Never throws. */
  receiveClientRequest(handle: Handle, frames: readonly Uint8Array[]): void {
    const parsed = parseRequest(frames, { serverIds: this.serverIds });
    if (!parsed.ok) {
      this.send(handle, errorReply("BAD_REQUEST", parsed.message, this.context(parsed.rid)));
      return;
    }
    const request = parsed.request;
    if (this.stopping) {
      this.send(handle, errorReply("SHUTTING_DOWN", `server ${this.options.id} is shutting down; try another server`, this.context(request.rid)));
      return;
    }
    switch (request.op) {
      case "status":
        return this.answerStatus(handle, request);
      case "get":
      case "list":
        return request.stale ? this.send(handle, this.readReply(request)) : this.startRead(handle, request);
      case "put":
      case "delete":
      case "cas":
        return this.startWrite(handle, request);
      case "admin":
        return this.send(
          handle,
          errorReply("BAD_REQUEST", `admin action "${request.action}" is not supported yet by this server`, this.context(request.rid)),
        );
      default:
        return assertNever(request, "request");
    }
  }

  /** A request the endpoint could not take on (too many in progress): refused at once, rid echoed. */
  refuseOverloaded(handle: Handle, frames: readonly Uint8Array[]): void {
    const parsed = parseRequest(frames, { serverIds: this.serverIds });
    const rid = parsed.ok ? parsed.request.rid : parsed.rid;
    this.send(handle, errorReply("TIMEOUT", `server ${this.options.id} has too many requests in progress; retry shortly`, this.context(rid)));
  }

  /**
   * Stops taking requests, answers every pending one SHUTTING_DOWN and waits
   * for the Ready in progress to be saved.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const pending of this.pending.takeAll()) {
      this.replyError(pending, "SHUTTING_DOWN", `server ${this.options.id} is shutting down; try another server`);
    }
    await this.readyLoop;
  }

  // ---- requests -----------------------------------------------------------

  private answerStatus(handle: Handle, request: Request): void {
    const status = this.options.node.status();
    const fields: OkFields = {
      op: "status",
      id: status.id,
      pid: process.pid,
      role: status.role,
      commitIndex: status.commitIndex,
      lastApplied: this.options.kv.lastApplied,
      lastLogIndex: status.lastLogIndex,
      votedFor: status.votedFor,
    };
    this.send(handle, okReply(fields, this.context(request.rid)));
  }

  /** Linearizable reads go through ReadIndex (§8): the leader confirms it still leads before answering. */
  private startRead(handle: Handle, request: Request & { op: "get" | "list" }): void {
    if (!this.acceptLeaderWork(handle, request)) return;
    const context = this.nextReadContext++;
    const accepted = this.options.node.readIndex(context);
    if (!accepted) {
      this.redirect(handle, request);
      return;
    }
    this.pending.addRead(context, this.pendingFor(handle, request));
    this.scheduleReady();
  }

  private startWrite(handle: Handle, request: WriteRequest): void {
    if (!this.acceptLeaderWork(handle, request)) return;
    if (request.client !== undefined) {
      // A retry of a write this session already applied gets its original reply without a second proposal.
      const cached = this.options.kv.sessions.cachedResult(request.client, request.seq);
      if (cached !== null) {
        this.send(handle, this.writeReply(cached, request));
        return;
      }
    }
    const proposal = this.options.node.propose(encodeCommand(commandOf(request)));
    if (!proposal.ok) {
      this.redirect(handle, request);
      return;
    }
    this.pending.addWrite(proposal.index, proposal.term, this.pendingFor(handle, request));
    this.scheduleReady();
  }

  /** Only a leader takes writes and linearizable reads, and only while it has room. */
  private acceptLeaderWork(handle: Handle, request: Request): boolean {
    if (this.options.node.status().role !== "leader") {
      this.redirect(handle, request);
      return false;
    }
    if (this.pending.isFull()) {
      this.send(handle, errorReply("TIMEOUT", `server ${this.options.id} has ${this.pending.size()} requests in progress; retry shortly`, this.context(request.rid)));
      return false;
    }
    return true;
  }

  private redirect(handle: Handle, request: Request): void {
    const context = this.context(request.rid);
    if (context.leaderId === null) {
      this.send(handle, errorReply("NO_LEADER", "no leader is known: an election is under way; retry shortly", context));
      return;
    }
    this.options.logger.debug(`redirected a ${request.op} to the leader, server ${context.leaderId}`, { term: context.term });
    this.send(handle, errorReply("NOT_LEADER", `server ${this.options.id} is not the leader; send the request to server ${context.leaderId} at ${context.leader}`, context));
  }

  private pendingFor(handle: Handle, request: Request): PendingRequest<Handle> {
    return { handle, request, deadlineMs: this.options.nowMs() + this.limits.requestTimeoutMs };
  }

  // ---- the Ready loop -----------------------------------------------------

  /** Runs the Ready loop once per event-loop turn, after that turn's inputs: the batching point. */
  private scheduleReady(): void {
    if (this.readyScheduled || this.readyLoop !== null) return;
    this.readyScheduled = true;
    setImmediate(() => {
      this.readyScheduled = false;
      if (this.readyLoop !== null) return;
      this.readyLoop = this.runReadyLoop()
        .catch((error: unknown) => this.options.onFatal(error))
        .finally(() => {
          this.readyLoop = null;
          // Input that arrived while the loop was finishing would otherwise wait for the next tick.
          if (this.options.node.hasReady()) this.scheduleReady();
        });
    });
  }

  private async runReadyLoop(): Promise<void> {
    const { node, storage, peers } = this.options;
    while (node.hasReady()) {
      const ready = node.ready();
      // The persistence rule (Figure 2): durable before any message leaves, a vote is granted or a client is answered.
      if (this.onlyCommitIndexChanged(ready)) {
        // Raft needs no durable commit index (a restarted server relearns it from the leader): it is kept
        // only to replay faster after a restart, so its write leaves the path to the client's answer.
        // Saves reach the disk in call order, so a later save cannot overtake it.
        storage.save(ready.hardState, ready.entries).catch((error: unknown) => this.options.onFatal(error));
      } else if (ready.hardState !== null || ready.entries.length > 0) {
        await storage.save(ready.hardState, ready.entries);
      }
      if (ready.hardState !== null) this.savedHardState = ready.hardState;
      if (ready.messages.length > 0) peers.send(ready.messages);
      if (ready.softState !== null) this.onRoleChange(ready);
      this.apply(ready.committedEntries);
      for (const read of ready.readStates) this.pending.confirmRead(read.context, read.index);
      for (const context of ready.droppedReads) {
        const pending = this.pending.takeUnconfirmedRead(context);
        if (pending !== undefined) this.replyNotLeader(pending);
      }
      this.serveReads();
      node.advance(ready);
    }
  }

  private onlyCommitIndexChanged(ready: Ready): boolean {
    const hardState = ready.hardState;
    return (
      hardState !== null &&
      ready.entries.length === 0 &&
      hardState.currentTerm === this.savedHardState.currentTerm &&
      hardState.votedFor === this.savedHardState.votedFor
    );
  }

  private onRoleChange(ready: Ready): void {
    const softState = ready.softState!;
    const isLeader = softState.role === "leader";
    if (this.wasLeader && !isLeader) {
      // Our proposals are in the log and may still commit under the next leader, so their outcome is
      // unknown (TIMEOUT): a client retries with the same client/seq and gets it exactly once.
      // Unconfirmed reads come back through Ready.droppedReads.
      for (const pending of this.pending.takeWrites()) {
        this.replyError(pending, "TIMEOUT", "leadership changed before the write was confirmed; it may or may not have taken effect: retry with the same client and seq");
      }
    }
    this.wasLeader = isLeader;
  }

  private apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const result = this.options.kv.apply(entry);
      const write = this.pending.takeWrite(entry.index, entry.term);
      if (write === null) continue;
      if (write.replaced || result === null) this.replyNotLeader(write.pending);
      else this.send(write.pending.handle, this.writeReply(result, write.pending.request as WriteRequest));
    }
  }

  private serveReads(): void {
    for (const read of this.pending.takeServableReads(this.options.kv.lastApplied)) {
      this.send(read.handle, this.readReply(read.request as Request & { op: "get" | "list" }));
    }
  }

  // ---- replies ------------------------------------------------------------

  private readReply(request: Request & { op: "get" | "list" }): Reply {
    const kv = this.options.kv;
    const context = this.context(request.rid);
    if (request.op === "get") {
      const value = kv.read(request.key);
      return okReply({ op: "get", value, found: value !== null }, context);
    }
    return okReply({ op: "list", entries: kv.list(request.prefix, request.limit) }, context);
  }

  private writeReply(result: KvResult, request: WriteRequest): Reply {
    const context = this.context(request.rid);
    switch (result.kind) {
      case "put":
        return okReply({ op: "put", index: result.index }, context);
      case "delete":
        return okReply({ op: "delete", index: result.index, found: result.found }, context);
      case "cas":
        return okReply({ op: "cas", index: result.index, swapped: result.swapped, value: result.value }, context);
      case "stale-seq":
        return errorReply("BAD_REQUEST", describeStaleSeq(result), context);
      default:
        return assertNever(result, "result");
    }
  }

  private replyNotLeader(pending: PendingRequest<Handle>): void {
    this.redirect(pending.handle, pending.request);
  }

  private replyError(pending: PendingRequest<Handle>, code: ErrorCode, message: string): void {
    this.send(pending.handle, errorReply(code, message, this.context(pending.request.rid)));
  }

  private context(rid: Uint8Array | null): ReplyContext {
    const { term, leaderId } = this.options.node.status();
    const leader = leaderId === null ? undefined : this.endpointById.get(leaderId);
    return { term, leaderId, rid, ...(leader === undefined ? {} : { leader }) };
  }

  private send(handle: Handle, reply: Reply): void {
    this.options.clients.reply(handle, encodeReply(reply));
  }
}

function commandOf(request: WriteRequest): KvCommand {
  const session = request.client === undefined ? {} : { client: request.client, seq: request.seq };
  switch (request.op) {
    case "put":
      return { op: "put", key: request.key, value: request.value, ...session };
    case "delete":
      return { op: "delete", key: request.key, ...session };
    case "cas":
      return { op: "cas", key: request.key, expect: request.expect, value: request.value, ...session };
    default:
      return assertNever(request, "write request");
  }
}
