/**
 * Client requests (docs/protocol.md §4, §6), parsed and validated from
 * untrusted frames where they enter a server.
 *
 * `value`, `expect` and `rid` are never decoded: they are kept as the exact
 * MessagePack bytes the client sent and spliced back verbatim into replies
 * (client-reply.ts),
 * so that any value (maps with `__proto__` keys, 64-bit integers, binary,
 * strings that are not UTF-8) is stored and returned unchanged.
 *
 * Choices where the contract leaves room, so that clients can rely on them
 * (docs/protocol.md §6):
 *   - `client` and `seq` come together: either without the other is refused;
 *   - a field is checked only for the ops that use it (others ignore it);
 *   - field names must be strings of valid UTF-8, each at most once;
 *   - integers (`limit`, `seq`, `target`, `chunk`, `from`, `waitMs`) must be
 *     MessagePack integers; `seq`, `target`, `chunk` and `from` at most
 *     2^53 - 1, `waitMs` at most 60,000, while any positive `limit` is
 *     taken (a page is far smaller anyway);
 *   - arrays and maps may nest at most 100 deep inside a field's value.
 */
import { assertNever } from "../base/assert.ts";
import { endpointRule, isEndpoint } from "../config/endpoint.ts";
import type { NodeId } from "../raft/index.ts";
import { clientIdBytesMax, keyBytesMax, valueBytesMax, watchWaitMsDefault, watchWaitMsMax } from "./limits.ts";
import {
  MsgpackDepthError,
  MsgpackFormatError,
  MsgpackReader,
  decodeUtf8Strict,
  describeKind,
  nestingDepthMax,
  type MsgpackHead,
} from "../msgpack/msgpack-reader.ts";

export const ops = ["get", "put", "delete", "list", "cas", "status", "admin", "watch"] as const;
export type Op = (typeof ops)[number];

export const adminActions = ["timeout", "step-down", "shutdown", "transfer", "snapshot", "backup", "add", "remove"] as const;
export type AdminAction = (typeof adminActions)[number];

/** An admin action with the fields it takes (docs/protocol.md §4). */
export type AdminCommand =
  | { readonly action: Exclude<AdminAction, "transfer" | "backup" | "add" | "remove"> }
  | { readonly action: "transfer"; readonly target: NodeId }
  /** Chunk `chunk` (from 0) of the server's stored snapshot. */
  | { readonly action: "backup"; readonly chunk: number }
  /** Server `target`, which clients reach at `client`, joins as a learner (dissertation §4.2.1). */
  | { readonly action: "add"; readonly target: NodeId; readonly client: string }
  | { readonly action: "remove"; readonly target: NodeId };

/**
 * A write's exactly-once session: `client` names the session and `seq`
 * numbers its writes (docs/protocol.md §8). Both or neither.
 */
export type SessionFields =
  | { readonly client?: undefined; readonly seq?: undefined }
  | { readonly client: string; readonly seq: number };

interface RequestBase {
  /** The raw MessagePack bytes of the request's `rid`, echoed in the reply; null when it had none. */
  readonly rid: Uint8Array | null;
}

export type GetRequest = RequestBase & { readonly op: "get"; readonly key: string; readonly stale: boolean };

/** `value` is the raw MessagePack bytes of the client's value. */
export type PutRequest = RequestBase & { readonly op: "put"; readonly key: string; readonly value: Uint8Array } & SessionFields;

export type DeleteRequest = RequestBase & { readonly op: "delete"; readonly key: string } & SessionFields;

/** `expect` and `value` are raw MessagePack bytes; `expect: null` (a nil in the request) means "the key must be absent". */
export type CasRequest = RequestBase & {
  readonly op: "cas";
  readonly key: string;
  readonly expect: Uint8Array | null;
  readonly value: Uint8Array;
} & SessionFields;

export type ListRequest = RequestBase & {
  readonly op: "list";
  /** All keys when absent. */
  readonly prefix?: string;
  /** Only keys that sort after this one: where the previous page ended. */
  readonly after?: string;
  /** Any positive integer; a larger one than 2^53 - 1 is read as 2^53 - 1 (a page holds far fewer). */
  readonly limit?: number;
  readonly stale: boolean;
};

export type StatusRequest = RequestBase & { readonly op: "status" };

export type WatchRequest = RequestBase & {
  readonly op: "watch";
  /** All keys when absent. */
  readonly prefix?: string;
  /** The log index to start from; absent: the next index the answering server applies. */
  readonly from?: number;
  /** Events per reply; any positive integer, a larger one than 2^53 - 1 read as 2^53 - 1 (the page cap is far smaller). */
  readonly limit?: number;
  /** How long the server may hold the request while nothing matching has been applied; 0: answer at once. */
  readonly waitMs: number;
};

export type AdminRequest = RequestBase & { readonly op: "admin" } & AdminCommand;

export type Request = GetRequest | PutRequest | DeleteRequest | CasRequest | ListRequest | StatusRequest | AdminRequest | WatchRequest;
export type WriteRequest = PutRequest | DeleteRequest | CasRequest;

export type ParseResult =
  | { readonly ok: true; readonly request: Request }
  /** `rid` is set when the request decoded to a map that held one, so that the BAD_REQUEST reply echoes it. */
  | { readonly ok: false; readonly message: string; readonly rid: Uint8Array | null };

export interface ParseOptions {
  /** The cluster's server ids: when given, a transfer to any other target is refused. */
  readonly serverIds?: ReadonlySet<NodeId>;
}

/** A request that breaks a rule, found while reading its fields. */
class InvalidRequest extends Error {
  override readonly name = "InvalidRequest";
}

const opSet: ReadonlySet<string> = new Set(ops);
const isOp = (name: string): name is Op => opSet.has(name);
const adminActionSet: ReadonlySet<string> = new Set(adminActions);
const isAdminAction = (name: string): name is AdminAction => adminActionSet.has(name);
const quoteAll = (names: readonly string[]): string => names.map((name) => JSON.stringify(name)).join(", ");

/**
 * Parses one request: the message's frames after the routing envelope.
 * Applies every validation rule of docs/protocol.md §6; never throws on any input.
 */
export function parseRequest(frames: readonly Uint8Array[], options: ParseOptions = {}): ParseResult {
  if (frames.length !== 1) {
    return refuse(`a request must be exactly one frame, but this message has ${frames.length}`, null);
  }
  const frame = frames[0] as Uint8Array;
  if (frame.length === 0) return refuse("the request frame is empty", null);
  // The request map itself is one level, so its fields' values may nest nestingDepthMax deep.
  const reader = new MsgpackReader(frame, nestingDepthMax + 1);
  let head: MsgpackHead;
  try {
    head = reader.single();
  } catch (error) {
    if (error instanceof MsgpackDepthError) {
      return refuse(`the request nests arrays and maps deeper than the limit of ${nestingDepthMax} levels inside a field`, null);
    }
    if (!(error instanceof MsgpackFormatError)) throw error;
    return refuse(`the request is not exactly one well-formed MessagePack value: ${error.message}`, null);
  }
  if (head.kind !== "map") return refuse(`the request must be a MessagePack map, not ${describeKind(head.kind)}`, null);
  const fields = RequestFields.read(reader);
  try {
    fields.checkNames();
    return { ok: true, request: readRequest(fields, options) };
  } catch (error) {
    if (!(error instanceof InvalidRequest)) throw error;
    return refuse(error.message, fields.rid);
  }
}

const refuse = (message: string, rid: Uint8Array | null): ParseResult => ({ ok: false, message, rid });

function readRequest(fields: RequestFields, options: ParseOptions): Request {
  const rid = fields.rid;
  const op = fields.requiredString("op", "the request");
  if (!isOp(op)) throw new InvalidRequest(`unknown op ${quoteField(op)}; the ops are ${quoteAll(ops)}`);
  const needs = `a "${op}" request`;
  switch (op) {
    case "get":
      return { op: "get", key: fields.key(needs), stale: fields.stale(), rid };
    case "put":
      return { op: "put", key: fields.key(needs), value: fields.value("value", needs), ...fields.session(), rid };
    case "delete":
      return { op: "delete", key: fields.key(needs), ...fields.session(), rid };
    case "cas":
      return {
        op: "cas",
        key: fields.key(needs),
        expect: fields.expect(needs),
        value: fields.value("value", needs),
        ...fields.session(),
        rid,
      };
    case "list": {
      const prefix = fields.optionalString("prefix");
      const after = fields.optionalString("after");
      const limit = fields.optionalInteger("limit", 1, { largeAllowed: true });
      return {
        op: "list",
        ...(prefix === undefined ? {} : { prefix }),
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
        stale: fields.stale(),
        rid,
      };
    }
    case "status":
      return { op: "status", rid };
    case "admin":
      return { op: "admin", ...fields.adminCommand(needs, options.serverIds), rid };
    case "watch": {
      const prefix = fields.optionalString("prefix");
      const from = fields.optionalInteger("from", 1);
      const limit = fields.optionalInteger("limit", 1, { largeAllowed: true });
      return {
        op: "watch",
        ...(prefix === undefined ? {} : { prefix }),
        ...(from === undefined ? {} : { from }),
        ...(limit === undefined ? {} : { limit }),
        waitMs: fields.waitMs(),
        rid,
      };
    }
    default:
      return assertNever(op, "op");
  }
}

/** A client's string, shortened and quoted for a message. */
function quoteField(text: string): string {
  const shown = text.slice(0, 40);
  return JSON.stringify(shown) + (shown.length < text.length ? "…" : "");
}

/** The fields of a request map, by name, as spans of the frame. */
class RequestFields {
  readonly #reader: MsgpackReader;
  readonly #spans: ReadonlyMap<string, { readonly start: number; readonly end: number }>;
  /** The first problem with a field name; reported only after `rid` is known, so that it is echoed. */
  readonly #nameProblem: string | null;
  readonly rid: Uint8Array | null;

  private constructor(
    reader: MsgpackReader,
    spans: ReadonlyMap<string, { readonly start: number; readonly end: number }>,
    nameProblem: string | null,
  ) {
    this.#reader = reader;
    this.#spans = spans;
    this.#nameProblem = nameProblem;
    const ridSpan = spans.get("rid");
    this.rid = ridSpan === undefined ? null : reader.copy(ridSpan.start, ridSpan.end);
  }

  /** Splits the (well-formed) map at the start of `reader`'s bytes into fields. */
  static read(reader: MsgpackReader): RequestFields {
    const spans = new Map<string, { readonly start: number; readonly end: number }>();
    let nameProblem: string | null = null;
    for (const entry of reader.mapEntries(0)) {
      const keyHead = reader.head(entry.keyStart);
      const name = keyHead.kind === "str" ? decodeUtf8Strict(reader.slice(keyHead.start, keyHead.next)) : null;
      if (name === null) {
        nameProblem ??=
          keyHead.kind === "str"
            ? "a field name is not valid UTF-8"
            : `field names must be strings, but one is ${describeKind(keyHead.kind)}`;
      } else if (spans.has(name)) {
        nameProblem ??= `the field ${quoteField(name)} appears more than once`;
      } else {
        spans.set(name, { start: entry.valueStart, end: entry.valueEnd });
      }
    }
    return new RequestFields(reader, spans, nameProblem);
  }

  checkNames(): void {
    if (this.#nameProblem !== null) throw new InvalidRequest(this.#nameProblem);
  }

  key(needs: string): string {
    this.#required("key", needs);
    const { text, bytes } = this.#string("key") as StringField;
    if (bytes < 1 || bytes > keyBytesMax) {
      throw new InvalidRequest(`key must be 1 to ${keyBytesMax} bytes of UTF-8, but it has ${bytes}`);
    }
    return text;
  }

  /** A `value` field: any MessagePack value of at most valueBytesMax bytes, as a copy of its bytes (the frame's buffer is not ours to keep). */
  value(name: "value" | "expect", needs: string): Uint8Array {
    const span = this.#required(name, needs);
    const bytes = span.end - span.start;
    if (bytes > valueBytesMax) {
      throw new InvalidRequest(
        `${name} is ${bytes} bytes of MessagePack, more than the limit of ${valueBytesMax} bytes (1 MiB)`,
      );
    }
    return this.#reader.copy(span.start, span.end);
  }

  expect(needs: string): Uint8Array | null {
    const span = this.#required("expect", needs);
    return this.#reader.head(span.start).kind === "nil" ? null : this.value("expect", needs);
  }

  /** `client` and `seq`, which come together or not at all. */
  session(): SessionFields {
    const client = this.#string("client");
    const seq = this.optionalInteger("seq", 1);
    if (client === undefined && seq === undefined) return {};
    if (client === undefined) throw new InvalidRequest("seq was given without client; a seq numbers the writes of a client session");
    if (seq === undefined) throw new InvalidRequest("client was given without seq; seq is required with client");
    if (client.bytes < 1 || client.bytes > clientIdBytesMax) {
      throw new InvalidRequest(`client must be 1 to ${clientIdBytesMax} bytes of UTF-8, but it has ${client.bytes}`);
    }
    return { client: client.text, seq };
  }

  /** A watch's hold: 0 to watchWaitMsMax milliseconds, watchWaitMsDefault when absent. */
  waitMs(): number {
    const head = this.#head("waitMs");
    if (head === undefined) return watchWaitMsDefault;
    const range = `an integer from 0 to ${watchWaitMsMax} (milliseconds)`;
    if (head.kind !== "int") throw new InvalidRequest(`waitMs must be ${range}, not ${describeKind(head.kind)}`);
    if (typeof head.value === "bigint" || head.value < 0 || head.value > watchWaitMsMax) throw new InvalidRequest(`waitMs must be ${range}, not ${head.value}`);
    return head.value;
  }

  stale(): boolean {
    const head = this.#head("stale");
    if (head === undefined) return false;
    if (head.kind !== "bool") throw new InvalidRequest(`stale must be a boolean, not ${describeKind(head.kind)}`);
    return head.value;
  }

  adminCommand(needs: string, serverIds: ReadonlySet<NodeId> | undefined): AdminCommand {
    const action = this.requiredString("action", needs);
    if (!isAdminAction(action)) {
      throw new InvalidRequest(`unknown admin action ${quoteField(action)}; the actions are ${quoteAll(adminActions)}`);
    }
    switch (action) {
      case "transfer": {
        const target = this.#target("a transfer needs a target: the id of the server to hand leadership to");
        if (serverIds !== undefined && !serverIds.has(target)) {
          throw new InvalidRequest(`target ${target} is not a server of this cluster (the servers are ${[...serverIds].join(", ")})`);
        }
        return { action, target };
      }
      case "add": {
        const target = this.#target("an add needs a target: the id of the server to add");
        return { action, target, client: this.#endpoint("client", "an add needs client: the client endpoint of the server to add") };
      }
      case "remove":
        return { action, target: this.#target("a remove needs a target: the id of the server to remove") };
      case "backup": {
        const chunk = this.optionalInteger("chunk", 0);
        if (chunk === undefined) throw new InvalidRequest("a backup needs a chunk: the number, from 0, of the stored snapshot's chunk to send");
        return { action, chunk };
      }
      default:
        return { action };
    }
  }

  requiredString(name: string, needs: string): string {
    this.#required(name, needs);
    return this.optionalString(name) as string;
  }

  optionalString(name: string): string | undefined {
    return this.#string(name)?.text;
  }

  /**
   * A MessagePack integer of at least `least`: 1 (a positive one) or 0. Past
   * 2^53 - 1 it is refused, or with `largeAllowed` (a `limit`, which only
   * bounds) read as 2^53 - 1.
   */
  optionalInteger(name: string, least: 0 | 1, options: { readonly largeAllowed?: boolean } = {}): number | undefined {
    const head = this.#head(name);
    if (head === undefined) return undefined;
    const kind = least === 1 ? "a positive integer" : "a non-negative integer";
    if (head.kind !== "int") throw new InvalidRequest(`${name} must be ${kind}, not ${describeKind(head.kind)}`);
    if (typeof head.value === "bigint" && head.value > 0n && options.largeAllowed === true) return Number.MAX_SAFE_INTEGER;
    if (typeof head.value === "bigint" || head.value < least) {
      throw new InvalidRequest(`${name} must be ${kind}${options.largeAllowed === true ? "" : " no larger than 2^53 - 1"}, not ${head.value}`);
    }
    return head.value;
  }

  /** The `target` field: a server id. */
  #target(missing: string): NodeId {
    const target = this.optionalInteger("target", 1);
    if (target === undefined) throw new InvalidRequest(missing);
    return target;
  }

  /** A client endpoint, as the config file's are checked (docs/protocol.md §2): it reaches every server through the log. */
  #endpoint(name: string, missing: string): string {
    const field = this.#string(name);
    if (field === undefined) throw new InvalidRequest(missing);
    if (!isEndpoint(field.text)) throw new InvalidRequest(`${name} must be ${endpointRule}, not ${quoteField(field.text)}`);
    return field.text;
  }

  #head(name: string): MsgpackHead | undefined {
    const span = this.#spans.get(name);
    return span === undefined ? undefined : this.#reader.head(span.start);
  }

  #required(name: string, needs: string): { readonly start: number; readonly end: number } {
    const span = this.#spans.get(name);
    if (span === undefined) throw new InvalidRequest(`${needs} needs the field "${name}"`);
    return span;
  }

  /** A string field decoded strictly, with its length in bytes of UTF-8. */
  #string(name: string): StringField | undefined {
    const head = this.#head(name);
    if (head === undefined) return undefined;
    if (head.kind !== "str") throw new InvalidRequest(`${name} must be a string, not ${describeKind(head.kind)}`);
    const text = decodeUtf8Strict(this.#reader.slice(head.start, head.next));
    if (text === null) throw new InvalidRequest(`${name} is not valid UTF-8`);
    return { text, bytes: head.next - head.start };
  }
}

interface StringField {
  readonly text: string;
  readonly bytes: number;
}
