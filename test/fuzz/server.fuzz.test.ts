/**
 * Property-based fuzzing of a whole server (runtime, Raft core, KV service
 * and store) driven by sequences of actions: client requests, valid and
 * garbage; peer messages that pass the peer codec but are arbitrary in
 * content (any type, term, index, acknowledgement, vote, entries whose
 * command bytes are garbage); ticks; saves completing.
 *
 * docs/protocol.md §8 (Robustness) and docs/architecture.md §6: nothing a
 * client or a peer sends crashes a server, and no input reaches an
 * assertion. docs/protocol.md §3 and §5: every request gets exactly one
 * reply, TIMEOUT at the latest once 3 s have passed. Throughout, the core's
 * invariants hold after every action, the runtime holds no more requests than
 * are unanswered, and no message leaves while a save is in flight
 * (docs/architecture.md §4).
 *
 * Peer messages are built against the server's current state (a term one
 * above its own, an index at its last entry...) so that they reach deep
 * into Raft, then encoded and decoded by the peer codec: only what it
 * accepts is delivered, which is exactly what a hostile peer can get through
 * (docs/architecture.md §6).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeRequest } from "../../src/client/client-codec.ts";
import { decodePeerMessage, encodePeerMessage } from "../../src/protocol/peer-codec.ts";
import { raftConfigDefaults, type Entry, type Message } from "../../src/raft/index.ts";
import { arbitraryFrames, msgpackValue, mutated, pack, packableAnything, sometimes } from "./fuzz-support.ts";
import { drain, fuzzServer, requestTimeoutMs, selfId, serverIds, turns, type FuzzServer } from "./fuzz-server.ts";

const knownIds: ReadonlySet<number> = new Set(serverIds);
/** No single input makes a server send more than a few messages per peer. */
const messagesPerActionMax = 64;

// ---- client requests -----------------------------------------------------

const keys = ["a", "b"] as const;
const key = fc.constantFrom(...keys);
const smallValue = msgpackValue;
const session = sometimes(fc.record({ client: fc.constantFrom("c1", "c2", "c3"), seq: fc.integer({ min: 1, max: 4 }) }), 1, 2);
const stale = fc.option(fc.boolean(), { nil: undefined });

/** A valid request; its rid is the handle it gets, so that replies can be matched. */
const validRequest: fc.Arbitrary<Readonly<Record<string, unknown>>> = fc.oneof(
  fc.record({ op: fc.constant("get"), key, stale }),
  fc.tuple(fc.record({ op: fc.constant("put"), key, value: smallValue }), session).map(([request, s]) => ({ ...request, ...s })),
  fc.tuple(fc.record({ op: fc.constant("delete"), key }), session).map(([request, s]) => ({ ...request, ...s })),
  fc.tuple(fc.record({ op: fc.constant("cas"), key, expect: fc.oneof(fc.constant(null), smallValue), value: smallValue }), session).map(([request, s]) => ({ ...request, ...s })),
  fc.record({ op: fc.constant("list"), prefix: fc.option(key, { nil: undefined }), limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), stale }),
  fc.record({ op: fc.constant("status") }),
  fc.record({ op: fc.constant("admin"), action: fc.constant("step-down") }),
  // Holds no longer than the drain below waits, so that a held watch is answered by then too.
  fc.record({
    op: fc.constant("watch"),
    prefix: fc.option(key, { nil: undefined }),
    from: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    waitMs: fc.constantFrom(0, 50, requestTimeoutMs),
  }),
);

type RequestAction = { readonly kind: "request"; readonly request: Readonly<Record<string, unknown>> } | { readonly kind: "raw"; readonly frames: readonly Uint8Array[] };

const requestAction: fc.Arbitrary<RequestAction> = fc.oneof(
  { arbitrary: validRequest.map((request) => ({ kind: "request" as const, request })), weight: 6 },
  { arbitrary: arbitraryFrames.map((frames) => ({ kind: "raw" as const, frames })), weight: 1 },
  { arbitrary: packableAnything.map((frame) => ({ kind: "raw" as const, frames: [frame] })), weight: 1 },
  { arbitrary: mutated(validRequest.map((request) => Uint8Array.from(encodeRequest(request)))).map((frame) => ({ kind: "raw" as const, frames: [frame] })), weight: 2 },
);

// ---- peer messages, relative to the server's state ------------------------

/**
 * A log position: `base` plus `delta`, or an absolute index. "end" is the
 * last index the message itself reaches: for an AppendEntries its last
 * entry, for anything else the server's last entry.
 */
type IndexSpec = { readonly base: "zero" | "last" | "commit" | "end"; readonly delta: number } | { readonly abs: number };
/** A term relative to the server's current one, or absolute. */
type TermSpec = { readonly rel: number } | { readonly abs: number };

const indexSpec: fc.Arbitrary<IndexSpec> = fc.oneof(
  { arbitrary: fc.record({ base: fc.constantFrom("zero" as const, "last" as const, "commit" as const, "end" as const), delta: fc.integer({ min: -2, max: 2 }) }), weight: 8 },
  { arbitrary: fc.record({ abs: fc.oneof(fc.nat({ max: 20 }), fc.constantFrom(2 ** 31, Number.MAX_SAFE_INTEGER)) }), weight: 1 },
);
/** A position most often exactly at `base`: where an honest peer would point. */
const indexAt = (...bases: ("last" | "commit" | "end")[]): fc.Arbitrary<IndexSpec> =>
  fc.oneof({ arbitrary: fc.record({ base: fc.constantFrom(...bases), delta: fc.constant(0) }), weight: 3 }, { arbitrary: indexSpec, weight: 2 });

/** How hostile peer messages may be. */
interface Hostility {
  /** Committed commands may carry values and expectations that are not MessagePack. */
  readonly malformedValues: boolean;
  /** Terms may be the bound 2^48 (or just below): a server pushed there stays there (terms never decrease, §5.1). */
  readonly termsAtBound: boolean;
}

const termSpec = ({ termsAtBound }: Hostility): fc.Arbitrary<TermSpec> =>
  fc.oneof(
    { arbitrary: fc.record({ rel: fc.constantFrom(0, 0, 0, 0, 0, 1, 1, -1, 2) }), weight: 80 },
    { arbitrary: fc.record({ abs: fc.nat({ max: 10 }) }), weight: 10 },
    { arbitrary: fc.record({ abs: termsAtBound ? fc.constantFrom(2 ** 48, 2 ** 48 - 1) : fc.constantFrom(2 ** 40, 2 ** 47) }), weight: 1 },
  );
const readRound = fc.oneof(fc.nat({ max: 4 }), fc.constantFrom(2 ** 40, Number.MAX_SAFE_INTEGER));

interface EntrySpec {
  /** How far this entry's term climbs above the one before it (capped at the message term). */
  readonly termStep: number;
  /** The command's bytes; null makes a noop. */
  readonly data: Uint8Array | null;
}

type PeerSpec =
  | {
      readonly type: "RequestVote";
      readonly from: number;
      readonly term: TermSpec;
      readonly last: IndexSpec;
      readonly lastTerm: TermSpec | "match";
      readonly forced: boolean;
    }
  | { readonly type: "RequestVoteResponse"; readonly from: number; readonly term: TermSpec; readonly voteGranted: boolean }
  /** Dissertation §9.6: a pre-vote asks about `term` (most often one above the server's own) without changing it. */
  | { readonly type: "PreVote"; readonly from: number; readonly term: TermSpec; readonly last: IndexSpec; readonly lastTerm: TermSpec | "match" }
  | { readonly type: "PreVoteResponse"; readonly from: number; readonly term: TermSpec; readonly voteGranted: boolean }
  /** Dissertation §3.10: from the leader of the server's term, or a forgery. */
  | { readonly type: "TimeoutNow"; readonly from: number; readonly term: TermSpec }
  | {
      readonly type: "AppendEntries";
      readonly from: number;
      readonly term: TermSpec;
      readonly prev: IndexSpec;
      readonly prevTerm: TermSpec | "match";
      readonly entries: readonly EntrySpec[];
      readonly leaderCommit: IndexSpec;
      readonly readRound: number;
    }
  | {
      readonly type: "AppendEntriesResponse";
      readonly from: number;
      readonly term: TermSpec;
      readonly success: boolean;
      readonly match: IndexSpec;
      readonly rejected: IndexSpec;
      readonly conflictTerm: TermSpec;
      readonly conflictIndex: IndexSpec;
      readonly readRound: number;
    };

const withoutUndefined = (record: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));

/** Bytes that are not one MessagePack value: what a forger can put where a stored value belongs. */
const malformedValue = fc.oneof(
  fc.constantFrom(Uint8Array.of(0xc1), new Uint8Array(0), Uint8Array.of(0x92, 0x01), Uint8Array.of(0xa3, 0x61), Uint8Array.of(0x01, 0x02)),
  fc.uint8Array({ minLength: 1, maxLength: 8 }),
);

/**
 * What a committed entry may carry: garbage bytes, MessagePack that is no
 * command, or a command (well-formed or forged); with `malformedValues`, a
 * command whose value or expectation is not MessagePack at all.
 */
function commandData({ malformedValues }: Hostility): fc.Arbitrary<Uint8Array> {
  const value = malformedValues ? fc.oneof(smallValue.map(pack), malformedValue) : smallValue.map(pack);
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 16 }), weight: 1 },
    { arbitrary: smallValue.map(pack), weight: 1 },
    {
      arbitrary: fc
      .record({
        op: fc.constantFrom("put", "put", "delete", "cas", "cas", "bogus"),
        key: fc.oneof({ arbitrary: key, weight: 6 }, { arbitrary: fc.constantFrom("", "__proto__"), weight: 1 }),
        value,
        expect: fc.oneof(fc.constant(null), value, fc.constant(undefined)),
        session: fc.oneof(
          { arbitrary: fc.constant({}), weight: 3 },
          { arbitrary: fc.record({ client: fc.constantFrom("c1", "forged"), seq: fc.integer({ min: 1, max: 2 }) }), weight: 2 },
          { arbitrary: fc.record({ client: fc.option(fc.constantFrom("", "c2")), seq: fc.option(fc.constantFrom(0, -1, 1.5, 2 ** 53)) }), weight: 1 },
        ),
        at: sometimes(fc.oneof(fc.nat(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -1)), 1, 2),
      })
      .map(({ session: s, ...command }) => ({ ...command, ...s }))
      .map((command) => pack(withoutUndefined(command))),
      weight: 6,
    },
  );
}

function peerSpec(hostility: Hostility): fc.Arbitrary<PeerSpec> {
  const term = termSpec(hostility);
  const from = fc.constantFrom(2, 3);
  const entry: fc.Arbitrary<EntrySpec> = fc.record({ termStep: fc.constantFrom(0, 0, 0, 1), data: fc.option(commandData(hostility), { freq: 4 }) });
  return fc.oneof(
    fc.record({ type: fc.constant("RequestVote" as const), from, term, last: indexSpec, lastTerm: fc.oneof(fc.constant("match" as const), term), forced: fc.boolean() }),
    { arbitrary: fc.record({ type: fc.constant("RequestVoteResponse" as const), from, term, voteGranted: fc.boolean() }), weight: 2 },
    fc.record({ type: fc.constant("PreVote" as const), from, term, last: indexSpec, lastTerm: fc.oneof(fc.constant("match" as const), term) }),
    fc.record({ type: fc.constant("PreVoteResponse" as const), from, term, voteGranted: fc.boolean() }),
    fc.record({ type: fc.constant("TimeoutNow" as const), from, term }),
    {
      arbitrary: fc.record({
        type: fc.constant("AppendEntries" as const),
        from,
        term,
        prev: indexAt("last", "commit"),
        prevTerm: fc.oneof({ arbitrary: fc.constant("match" as const), weight: 3 }, { arbitrary: term, weight: 1 }),
        entries: fc.array(entry, { maxLength: 6 }),
        leaderCommit: indexAt("end"),
        readRound,
      }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        type: fc.constant("AppendEntriesResponse" as const),
        from,
        term,
        success: fc.boolean(),
        match: indexAt("last"),
        rejected: indexSpec,
        conflictTerm: term,
        conflictIndex: indexSpec,
        readRound,
      }),
      weight: 3,
    },
  );
}

/** The message `spec` describes, against the server's state now. */
function buildMessage(h: FuzzServer, spec: PeerSpec): Message {
  const status = h.node.status();
  const log = h.node.logEntries();
  const index = (at: IndexSpec, end = status.lastLogIndex): number =>
    "abs" in at ? at.abs : Math.max(0, { zero: 0, last: status.lastLogIndex, commit: status.commitIndex, end }[at.base] + at.delta);
  const term = (at: TermSpec): number => ("abs" in at ? at.abs : Math.max(0, status.term + at.rel));
  const messageTerm = term(spec.term);
  // Past the end of the log, the term a leader of the message's term could hold there.
  const termAt = (position: number): number => (position === 0 ? 0 : (log[position - 1]?.term ?? Math.max(1, Math.min(messageTerm, status.lastLogTerm))));
  const base = { term: messageTerm, from: spec.from, to: selfId };
  switch (spec.type) {
    case "RequestVote": {
      const lastLogIndex = index(spec.last);
      const lastLogTerm = spec.lastTerm === "match" ? termAt(lastLogIndex) : term(spec.lastTerm);
      return { ...base, type: spec.type, lastLogIndex, lastLogTerm, ...(spec.forced ? { forced: true as const } : {}) };
    }
    case "PreVote": {
      const lastLogIndex = index(spec.last);
      return { ...base, type: spec.type, lastLogIndex, lastLogTerm: spec.lastTerm === "match" ? termAt(lastLogIndex) : term(spec.lastTerm) };
    }
    case "RequestVoteResponse":
    case "PreVoteResponse":
      return { ...base, type: spec.type, voteGranted: spec.voteGranted };
    case "TimeoutNow":
      return { ...base, type: spec.type };
    case "AppendEntries": {
      const prevLogIndex = index(spec.prev);
      const prevLogTerm = spec.prevTerm === "match" ? termAt(prevLogIndex) : term(spec.prevTerm);
      let entryTerm = Math.max(prevLogTerm, 1);
      const entries: Entry[] = spec.entries.map((item, i) => {
        entryTerm = Math.min(entryTerm + item.termStep, Math.max(messageTerm, 1));
        return { index: prevLogIndex + 1 + i, term: entryTerm, type: item.data === null ? "noop" : "command", data: item.data ?? new Uint8Array(0) };
      });
      const leaderCommit = index(spec.leaderCommit, prevLogIndex + entries.length);
      return { ...base, type: spec.type, prevLogIndex, prevLogTerm, entries, leaderCommit, readRound: spec.readRound };
    }
    case "AppendEntriesResponse":
      return {
        ...base,
        type: spec.type,
        success: spec.success,
        matchIndex: index(spec.match),
        rejectedIndex: index(spec.rejected),
        conflictTerm: term(spec.conflictTerm),
        conflictIndex: index(spec.conflictIndex),
        readRound: spec.readRound,
      };
  }
}

// ---- actions -------------------------------------------------------------

type Action =
  | RequestAction
  | { readonly kind: "peer"; readonly spec: PeerSpec }
  /** Election timeout, the vote saved, and both peers granting it: a leader to drive (§5.2). */
  | { readonly kind: "elect" }
  /** `from` answers the last AppendEntries it was sent, as an honest follower would (§5.3). */
  | { readonly kind: "ack"; readonly from: number; readonly success: boolean }
  | { readonly kind: "tick"; readonly ms: number }
  | { readonly kind: "save" };

function action(hostility: Hostility): fc.Arbitrary<Action> {
  return fc.oneof(
    { arbitrary: requestAction, weight: 5 },
    { arbitrary: peerSpec(hostility).map((spec) => ({ kind: "peer" as const, spec })), weight: 5 },
    { arbitrary: fc.constant({ kind: "elect" as const }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("ack" as const), from: fc.constantFrom(2, 3), success: fc.boolean() }), weight: 4 },
    { arbitrary: fc.constantFrom(0, 10, 50, 160, 310, 1000, 3100).map((ms) => ({ kind: "tick" as const, ms })), weight: 2 },
    { arbitrary: fc.constant({ kind: "save" as const }), weight: 4 },
  );
}

interface RunStats {
  delivered: number;
  refusedByCodec: number;
  leaderRuns: number;
  applied: number;
  /** Writes answered ok: the whole path from a request to an applied entry was taken. */
  okWrites: number;
}

const newStats = (): RunStats => ({ delivered: 0, refusedByCodec: 0, leaderRuns: 0, applied: 0, okWrites: 0 });

interface RunOptions {
  readonly stats?: RunStats;
  /** Also require every message the server sends to pass the peer codec at its receiver. */
  readonly ownMessagesDecode?: boolean;
}

/** Runs `actions` on a fresh server, checking the properties after each one and after the drain. */
async function run(actions: readonly Action[], seed: number, options: RunOptions = {}): Promise<void> {
  const { stats } = options;
  const h = fuzzServer(seed);
  const ridOf = new Map<number, number>();
  let leader = false;

  /** Delivers what the peer codec lets through, as the peer transport does (docs/architecture.md §6). */
  const deliver = (message: Message): void => {
    const decoded = decodePeerMessage(encodePeerMessage(message), selfId, knownIds);
    if (!decoded.ok) {
      if (stats) stats.refusedByCodec++;
      return;
    }
    if (stats) stats.delivered++;
    h.server.receivePeerMessage(decoded.message);
  };

  let checkedSent = 0;
  const check = (step: string): void => {
    assert.deepEqual(h.violations, [], `after ${step}`);
    h.node.checkInvariants();
    const answered = h.replies.size;
    assert.ok(answered <= h.requests(), "no more replies than requests");
    assert.ok(h.server.status().lastApplied <= h.node.status().commitIndex);
    const pending = h.pendingInRuntime();
    assert.ok(pending <= h.requests() - answered, `the runtime holds ${pending} requests, but only ${h.requests() - answered} are unanswered`);
    assert.ok(h.sent.length - checkedSent <= messagesPerActionMax, `${step} made the server send ${h.sent.length - checkedSent} messages`);
    if (options.ownMessagesDecode) {
      for (const message of h.sent.slice(checkedSent)) {
        const decoded = decodePeerMessage(encodePeerMessage(message), message.to, knownIds);
        assert.ok(decoded.ok, `after ${step}, server ${selfId} sent a ${message.type} that server ${message.to} refuses: ${decoded.ok ? "" : decoded.reason}`);
      }
    }
    checkedSent = h.sent.length;
    if (h.node.status().role === "leader") leader = true;
  };

  for (const [step, act] of actions.entries()) {
    switch (act.kind) {
      case "request": {
        const rid = h.requests() + 1;
        ridOf.set(h.request([encodeRequest({ ...act.request, rid })]), rid);
        break;
      }
      case "raw":
        h.request(act.frames);
        break;
      case "peer":
        deliver(buildMessage(h, act.spec));
        break;
      case "elect": {
        if (h.node.status().role === "leader") break;
        h.advanceTime(raftConfigDefaults.electionTimeoutMsMax + 1);
        await turns(3);
        h.storage.releaseAll();
        await turns(3);
        for (const from of [2, 3]) deliver({ type: "RequestVoteResponse", term: h.node.status().term, from, to: selfId, voteGranted: true });
        break;
      }
      case "ack": {
        const last = [...h.sent].reverse().find((message) => message.type === "AppendEntries" && message.to === act.from);
        if (last?.type !== "AppendEntries") break;
        const { term, prevLogIndex, entries, readRound } = last;
        deliver({
          type: "AppendEntriesResponse",
          term,
          from: act.from,
          to: selfId,
          success: act.success,
          matchIndex: act.success ? prevLogIndex + entries.length : 0,
          rejectedIndex: act.success ? 0 : prevLogIndex,
          conflictTerm: 0,
          conflictIndex: act.success ? 0 : 1,
          readRound,
        });
        break;
      }
      case "tick":
        h.advanceTime(act.ms);
        break;
      case "save":
        h.storage.releaseAll();
        break;
    }
    await turns(3);
    check(`action ${step} (${act.kind})`);
  }
  const applied = h.server.status().lastApplied;
  await drain(h);
  check("the drain");
  for (let handle = 1; handle <= h.requests(); handle++) {
    const replies = h.replies.get(handle) ?? [];
    assert.equal(replies.length, 1, `request ${handle} got ${replies.length} replies`);
    const reply = replies[0];
    const rid = ridOf.get(handle);
    if (rid !== undefined && typeof reply !== "string") assert.equal(reply?.rid, rid, `request ${handle}'s reply carries its rid`);
  }
  if (stats) {
    stats.applied += applied;
    if (leader) stats.leaderRuns++;
    for (const [handle, [reply]] of h.replies) if (ridOf.has(handle) && typeof reply === "object" && reply.ok && "index" in reply) stats.okWrites++;
  }
}

const actions = (hostility: Hostility): fc.Arbitrary<Action[]> => fc.array(action(hostility), { minLength: 1, maxLength: 80, size: "max" });

test("a server fed random client requests and forged peer messages never fails, answers every request once, and sends only what its peers accept", async () => {
  const stats = newStats();
  await fc.assert(
    fc.asyncProperty(actions({ malformedValues: false, termsAtBound: false }), fc.nat(), async (sequence, seed) => {
      await run(sequence, seed, { stats, ownMessagesDecode: true });
    }),
    { seed: 0x5e7e1, numRuns: 150, includeErrorInReport: true },
  );
  // The generator must reach the states that matter: a leader, applied entries, writes answered, most forgeries delivered.
  assert.ok(stats.leaderRuns >= 20, `only ${stats.leaderRuns} runs elected this server`);
  assert.ok(stats.applied >= 200, `only ${stats.applied} entries applied`);
  assert.ok(stats.okWrites >= 5, `only ${stats.okWrites} writes answered ok`);
  assert.ok(stats.delivered > stats.refusedByCodec, `${stats.refusedByCodec} of the peer messages were refused by the codec, ${stats.delivered} delivered`);
});

test("a server fed forged committed commands whose values are not MessagePack never fails, and its replies stay readable", async () => {
  await fc.assert(
    fc.asyncProperty(actions({ malformedValues: true, termsAtBound: false }), fc.nat(), async (sequence, seed) => {
      await run(sequence, seed);
    }),
    { seed: 0x5e7e2, numRuns: 150, includeErrorInReport: true },
  );
});

test("a server fed forged terms up to the bound 2^48 still sends only what its peers accept", async () => {
  await fc.assert(
    fc.asyncProperty(actions({ malformedValues: false, termsAtBound: true }), fc.nat(), async (sequence, seed) => {
      await run(sequence, seed, { ownMessagesDecode: true });
    }),
    { seed: 0x5e7e3, numRuns: 150, includeErrorInReport: true },
  );
});

// ---- reproductions of what the properties above found --------------------

/** Delivers `message` through the peer codec, proving that a hostile peer gets it through (docs/architecture.md §6). */
function deliverThroughCodec(h: FuzzServer, message: Message): void {
  const decoded = decodePeerMessage(encodePeerMessage(message), selfId, knownIds);
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
  h.server.receivePeerMessage(decoded.message);
}

const command = (index: number, data: Uint8Array): Entry => ({ index, term: 1, type: "command", data });

/** Server 2 "leads" term 1 and has server 1 commit `entries` at once. */
function forgedCommit(h: FuzzServer, entries: readonly Entry[]): void {
  deliverThroughCodec(h, { type: "AppendEntries", term: 1, from: 2, to: selfId, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: entries.length, readRound: 0 });
}

test("reproduction: a committed cas whose expect is not MessagePack, forged by a peer, stops the server", async () => {
  const h = fuzzServer(1);
  // A put of the value nil, then a cas on the same key whose expect is the byte 0xc1, which MessagePack never uses.
  forgedCommit(h, [command(1, pack({ op: "put", key: "a", value: Uint8Array.of(0xc0) })), command(2, pack({ op: "cas", key: "a", expect: Uint8Array.of(0xc1), value: Uint8Array.of(0xc0) }))]);
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.deepEqual(h.violations, [], "the Ready loop threw: the server stops, and stops again at every restart that replays the entry");
  assert.equal(h.server.status().lastApplied, 2);
});

test("reproduction: a committed put whose value is not MessagePack, forged by a peer, makes the server send replies no client can read", async () => {
  const h = fuzzServer(1);
  // The value is two MessagePack values, not one.
  forgedCommit(h, [command(1, pack({ op: "put", key: "a", value: Uint8Array.of(0x00, 0x00) }))]);
  await turns();
  h.storage.releaseAll();
  await turns();
  const handle = h.request([encodeRequest({ op: "get", key: "a", stale: true })]);
  await turns();
  assert.equal(h.replies.get(handle)?.length, 1);
  assert.deepEqual(h.violations, [], "the reply to a get of that key is not one MessagePack map");
});

test("reproduction: a peer that pushes a server to the term bound (2^48) makes it stop campaigning, never send a term its peers refuse", async () => {
  const h = fuzzServer(1);
  deliverThroughCodec(h, { type: "RequestVote", term: 2 ** 48, from: 2, to: selfId, lastLogIndex: 0, lastLogTerm: 0 });
  await turns();
  h.storage.releaseAll();
  await turns();
  assert.equal(h.node.status().term, 2 ** 48, "the codec lets the bound itself through");
  h.advanceTime(raftConfigDefaults.electionTimeoutMsMax + 1);
  await turns();
  h.storage.releaseAll();
  await turns();
  // Found by fuzzing: the server used to campaign for 2^48 + 1, which every peer's codec refuses.
  for (const message of h.sent) {
    const decoded = decodePeerMessage(encodePeerMessage(message), message.to, knownIds);
    assert.ok(decoded.ok, `server ${message.to} would refuse server 1's ${message.type}: ${decoded.ok ? "" : decoded.reason}`);
  }
  assert.equal(h.sent.filter((message) => message.type === "RequestVote").length, 0, "no campaign past the bound");
  assert.deepEqual(h.violations, []);
});
