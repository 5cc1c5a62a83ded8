import { Packr, Unpackr } from "msgpackr";
import { assertNever } from "../base/assert.ts";
import { MsgpackFormatError, MsgpackReader } from "../msgpack/msgpack-reader.ts";
import { packTransient } from "../msgpack/packed-bytes.ts";
import { termMax, type Entry, type EntryType, type LogIndex, type Message, type MessageType, type NodeId, type SnapshotMeta, type Term } from "../raft/index.ts";

/**
 * The wire format of Raft messages between servers. Each message is one
 * PUB/SUB multipart message through the forwarders:
 *
 *   frame 1: the topic `raft/<to>/`, so that a SUB socket receives only what
 *            is addressed to it; the trailing `/` stops prefix matching
 *            (server 1's subscription `raft/1/` does not match `raft/10/`);
 *   frame 2: the message as one MessagePack map, Figure 2 field names;
 *   frame 3: the stamp (peer-stamp.ts), which the transport adds and checks.
 *
 * A message the same for several receivers (a leader's AppendEntries to
 * followers at the same point of its log) may travel once, as a multicast:
 * topic `raft/from/<from>/`, which every server that knows the sender
 * subscribes to, and `to` an array of the receivers. A forwarder that must
 * judge each receiver's copy (fault rules, docs/protocol.md §11) sends each
 * receiver its own copy on its own topic, the body unchanged.
 *
 * Anything arriving on the bus is untrusted: decodePeerMessage() checks every
 * byte's meaning before the Raft core sees it, and never throws.
 */

/** No message may carry a term above the core's bound (a peer claiming 2^53 would push servers to where `term + 1` is not exact). */
export const peerTermMax = termMax;

/**
 * The largest body an honest server sends: an AppendEntries of up to 4 MiB
 * of entries (the core's bytesPerAppendMax) plus one entry over that bound,
 * whose cas command may carry a 1 MiB value and a 1 MiB expectation, with
 * framing. An InstallSnapshot is smaller: its one chunk of the KV store's
 * image is closed once it reaches 1 MiB of MessagePack, so it holds at most
 * that plus its last item, a 1 KiB key and a 1 MiB value or a session keeping
 * a 1 MiB value (kv-snapshot.ts snapshotChunkBytes): about 2 MiB. Anything
 * larger is refused before it is decoded.
 */
export const peerBodyBytesMax = 8 * 1024 * 1024;

/**
 * The highest snapshot chunk number a message may carry. A follower collects
 * a snapshot's chunks in an array (ReceivedSnapshot.chunks), whose largest
 * index is 2^32 - 2: at about 1 MiB a chunk, petabytes, far past any image
 * an honest leader sends.
 */
export const peerSnapshotChunkMax = 2 ** 32 - 2;

/**
 * The shape every message has, checked on the raw bytes before a decoder
 * allocates anything: a map of a few fields, holding at most one array (the
 * entries) of small maps, or one small map (a snapshot's position). A frame
 * of millions of empty maps, or of deep nesting, costs one pass over its
 * bytes and no allocation.
 */
const peerShape = { depthMax: 3, mapEntriesMax: 16, arrayItemsMax: 8192 } as const;

/** The two frames of one peer message: topic, then body. */
export type PeerFrames = readonly [topic: Uint8Array, body: Uint8Array];

export type PeerDecodeResult =
  | { readonly ok: true; readonly message: Message }
  /** A well-formed multicast whose receivers do not include this server: nothing wrong, only not for it. */
  | { readonly ok: false; readonly forOthers: true; readonly reason: string }
  | { readonly ok: false; readonly forOthers: false; readonly reason: string };

// Standard MessagePack only (no msgpackr records), so that the bytes mean the
// same to any decoder; one instance of each, reused for every message.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  // Binary comes out as views into the frame; FieldReader.binaryCopy() copies what is kept.
  copyBuffers: false,
  structuredClone: false,
});

const textEncoder = new TextEncoder();
const topics = new Map<NodeId, Uint8Array>();

/** The topic string a server subscribes to, and that messages to it carry. */
export function peerTopicText(id: NodeId): string {
  return `raft/${id}/`;
}

/** The topic frame for messages to `id` (cached: every message needs one). */
export function peerTopic(id: NodeId): Uint8Array {
  return cachedTopic(topics, id, peerTopicText);
}

/** The topic string of multicasts from `from`: every server that knows `from` subscribes to it. */
export function peerMulticastTopicText(from: NodeId): string {
  return `raft/from/${from}/`;
}

/** The topic frame of multicasts from `from` (cached). */
export function peerMulticastTopic(from: NodeId): Uint8Array {
  return cachedTopic(multicastTopics, from, peerMulticastTopicText);
}

const multicastTopics = new Map<NodeId, Uint8Array>();

function cachedTopic(cache: Map<NodeId, Uint8Array>, id: NodeId, text: (id: NodeId) => string): Uint8Array {
  let topic = cache.get(id);
  if (topic === undefined) {
    topic = textEncoder.encode(text(id));
    cache.set(id, topic);
  }
  return topic;
}

/**
 * Encodes a message for the forwarder. Only the fields of the message type
 * are written, so nothing else an object may carry leaks onto the wire.
 */
export function encodePeerMessage(message: Message): PeerFrames {
  return [peerTopic(message.to), packTransient(packr, wireBody(message, message.to))];
}

/**
 * Encodes `message` once for every server of `receivers` (two or more, not
 * its sender): the caller vouches that the message to each would differ
 * only in `to`.
 */
export function encodePeerMulticast(message: Message, receivers: readonly NodeId[]): PeerFrames {
  return [peerMulticastTopic(message.from), packTransient(packr, wireBody(message, receivers))];
}

function wireBody(message: Message, to: NodeId | readonly NodeId[]): Record<string, unknown> {
  const { type, term, from } = message;
  switch (type) {
    case "RequestVote":
      return {
        type,
        term,
        from,
        to,
        lastLogIndex: message.lastLogIndex,
        lastLogTerm: message.lastLogTerm,
        // Written only when set, so that an ordinary campaign's bytes stay as they were.
        ...(message.forced === true ? { forced: true } : {}),
      };
    case "PreVote":
      return { type, term, from, to, lastLogIndex: message.lastLogIndex, lastLogTerm: message.lastLogTerm };
    case "RequestVoteResponse":
    case "PreVoteResponse":
      return { type, term, from, to, voteGranted: message.voteGranted };
    case "TimeoutNow":
      return { type, term, from, to };
    case "AppendEntries":
      return {
        type,
        term,
        from,
        to,
        prevLogIndex: message.prevLogIndex,
        prevLogTerm: message.prevLogTerm,
        entries: message.entries.map(({ index, term, type, data }) => ({ index, term, type, data })),
        leaderCommit: message.leaderCommit,
        readRound: message.readRound,
      };
    case "AppendEntriesResponse":
      return {
        type,
        term,
        from,
        to,
        success: message.success,
        matchIndex: message.matchIndex,
        rejectedIndex: message.rejectedIndex,
        conflictTerm: message.conflictTerm,
        conflictIndex: message.conflictIndex,
        readRound: message.readRound,
      };
    case "InstallSnapshot":
      return { type, term, from, to, snapshot: wirePosition(message.snapshot), chunk: message.chunk, last: message.last, data: message.data };
    case "InstallSnapshotResponse":
      return { type, term, from, to, snapshot: wirePosition(message.snapshot), nextChunk: message.nextChunk, done: message.done };
    default:
      return assertNever(message, "message type");
  }
}

const wirePosition = ({ index, term }: SnapshotMeta): SnapshotMeta => ({ index, term });

/**
 * Decodes and fully validates the frames of one peer message addressed to
 * `selfId` from one of `knownIds`. Never throws: bad input of any kind gives `ok: false` and a
 * reason naming the first problem found. The message returned is built from
 * the validated fields only.
 */
export function decodePeerMessage(
  frames: readonly Uint8Array[],
  selfId: NodeId,
  knownIds: Pick<ReadonlySet<NodeId>, "has">,
): PeerDecodeResult {
  try {
    return { ok: true, message: decodeOrReject(frames, selfId, knownIds) };
  } catch (error) {
    if (error instanceof NotForThisServer) return { ok: false, forOthers: true, reason: error.message };
    if (error instanceof Rejection) return { ok: false, forOthers: false, reason: error.message };
    throw error;
  }
}

/** Thrown inside this module only, to leave the validation at the first problem. */
class Rejection extends Error {
  override readonly name: string = "Rejection";
}

/** A valid multicast to other servers: not a fault, so the transport drops it without a warning. */
class NotForThisServer extends Rejection {
  override readonly name = "NotForThisServer";
}

function reject(reason: string): never {
  throw new Rejection(reason);
}

const messageTypes: ReadonlySet<string> = new Set<MessageType>([
  "RequestVote",
  "RequestVoteResponse",
  "PreVote",
  "PreVoteResponse",
  "AppendEntries",
  "AppendEntriesResponse",
  "TimeoutNow",
  "InstallSnapshot",
  "InstallSnapshotResponse",
]);
const entryTypes: ReadonlySet<string> = new Set<EntryType>(["noop", "command", "config"]);

function decodeOrReject(frames: readonly Uint8Array[], selfId: NodeId, knownIds: Pick<ReadonlySet<NodeId>, "has">): Message {
  if (frames.length !== 2) reject(`expected 2 frames (topic, body), got ${frames.length}`);
  const [topic, bodyBytes] = frames as readonly [Uint8Array, Uint8Array];
  const multicastFrom = bytesEqual(topic, peerTopic(selfId)) ? null : multicastSender(topic);
  if (multicastFrom === undefined) reject(`topic ${describeTopic(topic)} is neither ${peerTopicText(selfId)} nor a multicast's raft/from/<id>/`);

  if (bodyBytes.length > peerBodyBytesMax) reject(`body is ${bodyBytes.length} bytes, more than the ${peerBodyBytesMax} any message needs`);
  checkShape(bodyBytes);
  let decoded: unknown;
  try {
    decoded = unpackr.unpack(bodyBytes);
  } catch (error) {
    // Well-formed by checkShape, but msgpackr may still refuse what it cannot represent.
    reject(`body is not one MessagePack value: ${error instanceof Error ? error.message : String(error)}`);
  }
  const body = plainMap(decoded, "body");

  const type = body.type;
  if (typeof type !== "string" || !messageTypes.has(type)) reject(`type ${preview(type)} is not a Raft message type`);
  const messageType = type as MessageType;
  const field = (name: string): FieldReader => FieldReader.of(body, `${messageType}.${name}`, name);

  const term = field("term").term();
  const from = field("from").count();
  if (from === selfId) reject(`${messageType}.from is this server's own id ${selfId}`);
  if (!knownIds.has(from)) reject(`${messageType}.from ${from} is not a server of this cluster`);
  if (multicastFrom !== null && multicastFrom !== from) reject(`${messageType}.from ${from} is not the sender ${multicastFrom} its topic names`);
  checkAddressedTo(Object.hasOwn(body, "to") ? body.to : undefined, selfId, from, multicastFrom !== null, messageType);
  const to = selfId;

  switch (messageType) {
    case "RequestVote": {
      const { lastLogIndex, lastLogTerm } = lastLogPosition(field, messageType, term);
      // Absent on an ordinary campaign; when present, only `true` means anything.
      if (!Object.hasOwn(body, "forced")) return { type: messageType, term, from, to, lastLogIndex, lastLogTerm };
      if (body.forced !== true) reject(`RequestVote.forced is ${preview(body.forced)}, not true`);
      return { type: messageType, term, from, to, lastLogIndex, lastLogTerm, forced: true };
    }
    case "PreVote": {
      // `term` is the term asked about, one above the sender's own (dissertation §9.6).
      const { lastLogIndex, lastLogTerm } = lastLogPosition(field, messageType, term);
      return { type: messageType, term, from, to, lastLogIndex, lastLogTerm };
    }
    case "RequestVoteResponse":
    case "PreVoteResponse":
      return { type: messageType, term, from, to, voteGranted: field("voteGranted").flag() };
    case "TimeoutNow":
      return { type: messageType, term, from, to };
    case "AppendEntries": {
      const prevLogIndex = field("prevLogIndex").count();
      const prevLogTerm = field("prevLogTerm").termAtMost(term, "the message term");
      if ((prevLogIndex === 0) !== (prevLogTerm === 0)) {
        reject(`AppendEntries.prevLogTerm ${prevLogTerm} does not fit prevLogIndex ${prevLogIndex}`);
      }
      const entries = decodeEntries(body.entries, prevLogIndex, prevLogTerm, term);
      const leaderCommit = field("leaderCommit").count();
      const readRound = field("readRound").count();
      return { type: messageType, term, from, to, prevLogIndex, prevLogTerm, entries, leaderCommit, readRound };
    }
    case "AppendEntriesResponse": {
      const success = field("success").flag();
      const matchIndex = field("matchIndex").count();
      const rejectedIndex = field("rejectedIndex").count();
      const conflictTerm = field("conflictTerm").termAtMost(term, "the message term");
      const conflictIndex = field("conflictIndex").count();
      const readRound = field("readRound").count();
      return { type: messageType, term, from, to, success, matchIndex, rejectedIndex, conflictTerm, conflictIndex, readRound };
    }
    case "InstallSnapshot": {
      const snapshot = snapshotPosition(body, messageType, term);
      const chunk = field("chunk").chunkNumber();
      const last = field("last").flag();
      const data = field("data").binaryCopy();
      return { type: messageType, term, from, to, snapshot, chunk, last, data };
    }
    case "InstallSnapshotResponse": {
      const snapshot = snapshotPosition(body, messageType, term);
      const nextChunk = field("nextChunk").chunkNumber();
      const done = field("done").flag();
      return { type: messageType, term, from, to, snapshot, nextChunk, done };
    }
    default:
      return assertNever(messageType, "message type");
  }
}

/**
 * The sender a multicast topic `raft/from/<id>/` names (the digits as
 * peerTopicText writes them: no sign, no leading zero), or undefined when
 * the frame is no such topic.
 */
function multicastSender(topic: Uint8Array): NodeId | undefined {
  const prefix = "raft/from/";
  if (topic.length <= prefix.length + 1 || topic.length > prefix.length + 17 || topic[topic.length - 1] !== slash) return undefined;
  for (let i = 0; i < prefix.length; i++) if (topic[i] !== prefix.charCodeAt(i)) return undefined;
  const digits = Buffer.from(topic.buffer, topic.byteOffset + prefix.length, topic.length - prefix.length - 1).toString("latin1");
  if (!/^[1-9]\d*$/.test(digits)) return undefined;
  const id = Number(digits);
  return Number.isSafeInteger(id) ? id : undefined;
}

const slash = 0x2f;

/**
 * `to` is this server's id, or, in a multicast, a list of distinct servers
 * other than the sender. A multicast may also arrive on this server's own
 * topic: a forwarder applying fault rules sends each receiver its copy
 * there. A multicast that leaves this server out is valid but for others.
 */
function checkAddressedTo(to: unknown, selfId: NodeId, from: NodeId, onMulticastTopic: boolean, messageType: MessageType): void {
  if (!Array.isArray(to)) {
    if (onMulticastTopic) reject(`${messageType}.to is ${preview(to)}, not the list of receivers a multicast carries`);
    const receiver = new FieldReader(to, `${messageType}.to`).count();
    if (receiver !== selfId) reject(`${messageType}.to ${receiver} is not this server (${selfId})`);
    return;
  }
  if (to.length === 0) reject(`${messageType}.to is an empty list of receivers`);
  const receivers = new Set<NodeId>();
  for (let i = 0; i < to.length; i++) {
    const receiver = new FieldReader(to[i], `${messageType}.to[${i}]`).count();
    if (receiver === 0 || receiver === from) reject(`${messageType}.to[${i}] ${receiver} cannot receive a message from ${from}`);
    if (receivers.has(receiver)) reject(`${messageType}.to names server ${receiver} twice`);
    receivers.add(receiver);
  }
  if (receivers.has(selfId)) return;
  const notListed = `a multicast to servers ${[...receivers].join(",")}, not this server (${selfId})`;
  if (onMulticastTopic) throw new NotForThisServer(notListed);
  reject(`${notListed}, on this server's own topic`);
}

/** A candidate's last log position (§5.4.1): never above the message term, and term 0 for an empty log only. */
function lastLogPosition(field: (name: string) => FieldReader, messageType: MessageType, term: Term): { lastLogIndex: LogIndex; lastLogTerm: Term } {
  const lastLogIndex = field("lastLogIndex").count();
  const lastLogTerm = field("lastLogTerm").termAtMost(term, "the message term");
  if ((lastLogIndex === 0) !== (lastLogTerm === 0)) reject(`${messageType}.lastLogTerm ${lastLogTerm} does not fit lastLogIndex ${lastLogIndex}`);
  return { lastLogIndex, lastLogTerm };
}

/**
 * The last entry a snapshot includes: a real entry (index and term >= 1), of
 * a term no later than the message's. A response echoes the snapshot of the
 * InstallSnapshot it answers, with the follower's term, which is at least that
 * message's by then (§5.1), so the same holds for it.
 */
function snapshotPosition(body: Readonly<Record<string, unknown>>, messageType: MessageType, term: Term): SnapshotMeta {
  const what = `${messageType}.snapshot`;
  const snapshot = plainMap(body.snapshot, what);
  const index = FieldReader.of(snapshot, `${what}.index`, "index").count();
  if (index === 0) reject(`${what}.index is 0; a snapshot includes at least entry 1`);
  const snapshotTerm = FieldReader.of(snapshot, `${what}.term`, "term").termAtMost(term, "the message term");
  if (snapshotTerm === 0) reject(`${what}.term is 0; entries are created in terms >= 1`);
  return { index, term: snapshotTerm };
}

/** Refuses a body that is not one well-formed MessagePack value of the peer message shape (peerShape). */
function checkShape(body: Uint8Array): void {
  const reader = new MsgpackReader(body, peerShape.depthMax);
  let end: number;
  try {
    end = shapedValueEnd(reader, 0, 0);
  } catch (error) {
    if (error instanceof MsgpackFormatError) reject(`body is not one MessagePack value: ${error.message}`);
    throw error;
  }
  if (end !== body.length) reject(`body is not one MessagePack value: ${body.length - end} trailing bytes`);
}

/** Where the value at `offset` ends, refusing containers beyond peerShape's bounds. */
function shapedValueEnd(reader: MsgpackReader, offset: number, depth: number): number {
  const head = reader.head(offset);
  if (head.kind !== "array" && head.kind !== "map") return head.next;
  if (depth >= peerShape.depthMax) reject(`body nests arrays and maps deeper than the ${peerShape.depthMax} levels of a Raft message`);
  const countMax = head.kind === "map" ? peerShape.mapEntriesMax : peerShape.arrayItemsMax;
  if (head.count > countMax) reject(`body holds a ${head.kind} of ${head.count} items, more than the ${countMax} of any Raft message`);
  const items = head.kind === "map" ? head.count * 2 : head.count;
  let at = head.next;
  for (let item = 0; item < items; item++) at = shapedValueEnd(reader, at, depth + 1);
  return at;
}

/**
 * Entries must continue the log right after prevLogIndex, and their terms
 * must be what a leader's log can hold: non-decreasing from prevLogTerm and
 * never above the leader's current term (§5.3, Log Matching).
 */
function decodeEntries(value: unknown, prevLogIndex: LogIndex, prevLogTerm: Term, messageTerm: Term): Entry[] {
  if (!Array.isArray(value)) reject(`AppendEntries.entries is ${preview(value)}, not an array`);
  const entries = new Array<Entry>(value.length);
  let previousTerm = prevLogTerm;
  for (let i = 0; i < value.length; i++) {
    const what = `AppendEntries.entries[${i}]`;
    const item = plainMap(value[i], what);
    const index = FieldReader.of(item, `${what}.index`, "index").count();
    if (index !== prevLogIndex + 1 + i) reject(`${what}.index ${index} should be ${prevLogIndex + 1 + i}`);
    const term = FieldReader.of(item, `${what}.term`, "term").termAtMost(messageTerm, "the message term");
    if (term < previousTerm) reject(`${what}.term ${term} is below the term ${previousTerm} before it`);
    if (term === 0) reject(`${what}.term is 0; entries are created in terms >= 1`);
    previousTerm = term;
    const type = item.type;
    if (typeof type !== "string" || !entryTypes.has(type)) reject(`${what}.type ${preview(type)} is not "noop", "command" or "config"`);
    const data = FieldReader.of(item, `${what}.data`, "data").binaryCopy();
    if (type === "noop" && data.length !== 0) reject(`${what} is a noop with ${data.length} bytes of data`);
    entries[i] = { index, term, type: type as EntryType, data };
  }
  return entries;
}

/** Reads one field of an untrusted map, naming it in every rejection. */
class FieldReader {
  constructor(
    private readonly value: unknown,
    private readonly what: string,
  ) {}

  /** The field `key` of `map`: own properties only, so that nothing inherited can stand in for a missing field. */
  static of(map: Readonly<Record<string, unknown>>, what: string, key: string): FieldReader {
    return new FieldReader(Object.hasOwn(map, key) ? map[key] : undefined, what);
  }

  /** A non-negative safe integer: an index, an id, a round. */
  count(): number {
    const value = this.value;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      reject(`${this.what} is ${preview(value)}, not a non-negative integer`);
    }
    return value;
  }

  term(): Term {
    const value = this.count();
    if (value > peerTermMax) reject(`${this.what} ${value} is above the bound 2^48 on terms`);
    return value;
  }

  termAtMost(bound: Term, boundName: string): Term {
    const value = this.term();
    if (value > bound) reject(`${this.what} ${value} is above ${boundName} ${bound}`);
    return value;
  }

  /** A snapshot chunk's number (peerSnapshotChunkMax). */
  chunkNumber(): number {
    const value = this.count();
    if (value > peerSnapshotChunkMax) reject(`${this.what} ${value} is above the bound ${peerSnapshotChunkMax} on chunk numbers`);
    return value;
  }

  /**
   * Binary data, copied: a view into the frame would keep the whole frame
   * alive as long as what was read from it is kept (an entry in the log, a
   * snapshot chunk until installed). Buffer.from copies small data into
   * Node's shared pool: far cheaper than one ArrayBuffer per entry.
   */
  binaryCopy(): Uint8Array {
    if (!(this.value instanceof Uint8Array)) reject(`${this.what} is ${preview(this.value)}, not binary`);
    return Buffer.from(this.value);
  }

  flag(): boolean {
    if (typeof this.value !== "boolean") reject(`${this.what} is ${preview(this.value)}, not a boolean`);
    return this.value;
  }
}

function plainMap(value: unknown, what: string): Readonly<Record<string, unknown>> {
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    reject(`${what} is ${preview(value)}, not a map`);
  }
  return value as Readonly<Record<string, unknown>>;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const topicPreviewBytesMax = 32;

function describeTopic(topic: Uint8Array): string {
  const shown = Buffer.from(topic.subarray(0, topicPreviewBytesMax)).toString("latin1");
  return JSON.stringify(topic.length > topicPreviewBytesMax ? `${shown}…` : shown);
}

/** A short description of an untrusted value for a rejection reason. */
function preview(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "nil";
  if (value instanceof Uint8Array) return `${value.length} bytes of binary`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "object": {
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype === Object.prototype) return "a map";
      const name: unknown = (prototype as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      return typeof name === "string" ? `a ${name}` : "an object without prototype";
    }
    default:
      return `a ${typeof value}`;
  }
}
