/**
 * The forwarder's fault-injection control protocol, for testing only
 * (docs/protocol.md §11). A test or the chaos tool sends requests to a REP
 * socket the forwarder binds when started with `--allow-faults --control
 * ENDPOINT`.
 *
 * A request is one frame holding one map, either MessagePack or JSON (a
 * frame whose first byte is `{` is read as UTF-8 JSON); the reply comes
 * back in the request's format. At most 4 KiB.
 *
 *   {"op": "drop", "from": [1, 2], "to": [3, 4, 5], "oneWay": false}
 *       drop messages from 1 or 2 to 3, 4 or 5, and (unless oneWay) back
 *   {"op": "isolate", "server": 3}     drop every message to or from 3
 *   {"op": "loss", "fraction": 0.2, "seed": 7}
 *       drop a fraction of the other messages (0 turns loss off; seed default 1)
 *   {"op": "delay", "ms": 50, "jitterMs": 20}
 *       hold messages 50 ms plus up to 20 (0 and 0 turn delay off)
 *   {"op": "clear"}                    remove every rule and setting
 *   {"op": "rules"}                    change nothing, report what is in force
 *
 * Every reply to a valid request: {"ok": true, "op": <op>, "rules": [one
 * line per rule or setting in force]}. A bad request changes nothing and
 * gets {"ok": false, "error": "BAD_REQUEST", "message": <sentence>}. Server
 * ids must be servers of the forwarder's configuration; unknown fields are
 * refused, so that a misspelt field cannot quietly mean its default.
 */
import { C1, Packr, Unpackr } from "msgpackr";

export const controlRequestBytesMax = 4096;
/** No injected delay is longer: a test that wants a server silent for longer isolates it. */
export const controlDelayMsMax = 60_000;

export type ControlRequest =
  | { readonly op: "drop"; readonly from: readonly number[]; readonly to: readonly number[]; readonly oneWay: boolean }
  | { readonly op: "isolate"; readonly server: number }
  | { readonly op: "loss"; readonly fraction: number; readonly seed: number }
  | { readonly op: "delay"; readonly ms: number; readonly jitterMs: number }
  | { readonly op: "clear" }
  | { readonly op: "rules" };

export type ControlFormat = "json" | "msgpack";

export type ParsedControlRequest =
  | { readonly ok: true; readonly format: ControlFormat; readonly request: ControlRequest }
  | { readonly ok: false; readonly format: ControlFormat; readonly message: string };

export type ControlReply =
  | { readonly ok: true; readonly op: ControlRequest["op"]; readonly rules: readonly string[] }
  | { readonly ok: false; readonly error: "BAD_REQUEST"; readonly message: string };

const packr = new Packr({ useRecords: false, variableMapSize: true });
// Maps as Map, so that a `__proto__` key is just a key.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/** The fields each op takes besides `op`. */
const fieldsByOp: Readonly<Record<ControlRequest["op"], readonly string[]>> = {
  drop: ["from", "to", "oneWay"],
  isolate: ["server"],
  loss: ["fraction", "seed"],
  delay: ["ms", "jitterMs"],
  clear: [],
  rules: [],
};

class BadRequest extends Error {}

/**
 * Reads and checks one request message. Never throws: anything wrong comes
 * back as `ok: false` with a sentence. `serverIds` are the configured servers.
 */
export function parseControlRequest(frames: readonly Uint8Array[], serverIds: readonly number[]): ParsedControlRequest {
  const frame = frames[0];
  const format: ControlFormat = frame !== undefined && frame[0] === 0x7b ? "json" : "msgpack";
  try {
    if (frames.length !== 1 || frame === undefined) throw new BadRequest(`a request is one frame, not ${frames.length}`);
    if (frame.length > controlRequestBytesMax) throw new BadRequest(`a request is at most ${controlRequestBytesMax} bytes, not ${frame.length}`);
    return { ok: true, format, request: checkRequest(decodeMap(frame, format), serverIds) };
  } catch (error) {
    if (error instanceof BadRequest) return { ok: false, format, message: error.message };
    throw error;
  }
}

/** Encodes a reply in the format of the request it answers. */
export function encodeControlReply(reply: ControlReply, format: ControlFormat): Buffer {
  return format === "json" ? Buffer.from(JSON.stringify(reply)) : packr.pack(reply);
}

function decodeMap(frame: Uint8Array, format: ControlFormat): ReadonlyMap<unknown, unknown> {
  let value: unknown;
  try {
    if (format === "json") {
      value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(frame));
      if (typeof value === "object" && value !== null && !Array.isArray(value)) value = new Map(Object.entries(value));
    } else {
      value = unpackr.unpack(frame);
    }
  } catch (error) {
    throw new BadRequest(`the request is not one ${format === "json" ? "JSON" : "MessagePack"} value (${(error as Error).message})`);
  }
  if (value === C1) throw new BadRequest("the byte 0xc1 is not MessagePack");
  if (!(value instanceof Map)) throw new BadRequest("the request is not a map");
  return value;
}

function checkRequest(fields: ReadonlyMap<unknown, unknown>, serverIds: readonly number[]): ControlRequest {
  const op = fields.get("op");
  if (typeof op !== "string" || !Object.hasOwn(fieldsByOp, op)) {
    throw new BadRequest(`op must be one of ${Object.keys(fieldsByOp).join(", ")}`);
  }
  const known = fieldsByOp[op as ControlRequest["op"]];
  for (const key of fields.keys()) {
    if (key !== "op" && !known.includes(key as string)) throw new BadRequest(`${op} takes no field ${JSON.stringify(String(key))}`);
  }
  switch (op as ControlRequest["op"]) {
    case "drop": {
      const from = serverList(fields.get("from"), "from", serverIds);
      const to = serverList(fields.get("to"), "to", serverIds);
      const shared = from.filter((id) => to.includes(id));
      if (shared.length > 0) throw new BadRequest(`server ${shared[0]} is in both from and to`);
      const oneWay = fields.get("oneWay") ?? false;
      if (typeof oneWay !== "boolean") throw new BadRequest("oneWay must be a boolean");
      return { op: "drop", from, to, oneWay };
    }
    case "isolate":
      return { op: "isolate", server: serverId(fields.get("server"), "server", serverIds) };
    case "loss": {
      const fraction = fields.get("fraction");
      if (typeof fraction !== "number" || !(fraction >= 0 && fraction <= 1)) throw new BadRequest("fraction must be a number from 0 to 1");
      return { op: "loss", fraction, seed: integerIn(fields.get("seed") ?? 1, "seed", 0, 2 ** 32 - 1) };
    }
    case "delay":
      return {
        op: "delay",
        ms: integerIn(fields.get("ms"), "ms", 0, controlDelayMsMax),
        jitterMs: integerIn(fields.get("jitterMs") ?? 0, "jitterMs", 0, controlDelayMsMax),
      };
    case "clear":
      return { op: "clear" };
    case "rules":
      return { op: "rules" };
  }
}

function integerIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new BadRequest(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function serverId(value: unknown, name: string, serverIds: readonly number[]): number {
  if (typeof value !== "number" || !serverIds.includes(value)) throw new BadRequest(`${name} must be a server id of the configuration (${serverIds.join(", ")})`);
  return value;
}

function serverList(value: unknown, name: string, serverIds: readonly number[]): number[] {
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest(`${name} must be a non-empty array of server ids`);
  const ids = value.map((item) => serverId(item, `each of ${name}`, serverIds));
  if (new Set(ids).size !== ids.length) throw new BadRequest(`${name} names a server twice`);
  return ids;
}
