import { readJsonFile } from "./json-file.ts";
import { closestName } from "./closest-name.ts";
import { endpointRule, isEndpoint } from "./endpoint.ts";
import { curvePublicKeyOf, decodeCurveKey, type CurveKeyPair } from "./curve-keys.ts";

/**
 * The cluster configuration file (docs/protocol.md §2). Every field is optional in
 * a file and takes its default when left out.
 */
export interface ForwarderConfig {
  /** Bound by the forwarder's XSUB socket; servers' PUB sockets connect here. */
  readonly pub: string;
  /** Bound by the forwarder's XPUB socket; servers' SUB sockets connect here. */
  readonly sub: string;
}

export interface ServerConfig {
  readonly id: number;
  /** The server's client endpoint (bound by its ROUTER socket). */
  readonly client: string;
}

/**
 * CURVE encryption and authentication on every connection (docs/protocol.md
 * §10). Keys are Z85 text, already checked to decode to 32 bytes.
 */
export interface CurveConfig {
  /** The cluster's public key: servers and forwarders present it, clients and servers check it. */
  readonly publicKey: string;
  /**
   * Its secret key, held by the servers and the forwarders only: a client's
   * copy of the config leaves it out, since whoever holds it can pose as a
   * server or a forwarder (servers and forwarders refuse to start without it).
   */
  readonly secretKey?: string;
  /** The public keys of the clients a server admits; absent: any client that knows `publicKey`. */
  readonly clients?: readonly string[];
}

export interface ClusterConfig {
  readonly forwarders: readonly ForwarderConfig[];
  readonly servers: readonly ServerConfig[];
  /** [low, high] of the randomized election timeout, in milliseconds. */
  readonly electionTimeoutMs: readonly [number, number];
  readonly heartbeatMs: number;
  readonly dataDir: string;
  readonly curve?: CurveConfig;
  /** When servers snapshot their state and compact their logs (docs/protocol.md §2); unset fields take the server's defaults. */
  readonly snapshot?: SnapshotConfig;
}

/** The `snapshot` section: every field optional. */
export interface SnapshotConfig {
  /** Snapshot every this many entries applied, each server at its own points. */
  readonly entries?: number;
  /** ... or once the commands applied since then carry this many bytes. */
  readonly logBytes?: number;
  /** Entries kept in the log below a snapshot, for followers a little behind. */
  readonly keepEntries?: number;
}

/** Where a configuration came from, for error messages. */
export const builtInConfigName = "(built-in default config)";

/** The name error messages give the config at `path` (`--config`, else ZRAFT_CONFIG; unset or empty: the built-in one). */
export function configNameOf(path: string | undefined): string {
  return path === undefined || path === "" ? builtInConfigName : path;
}

export function defaultClusterConfig(): ClusterConfig {
  return {
    forwarders: [{ pub: "tcp://127.0.0.1:5011", sub: "tcp://127.0.0.1:5012" }],
    servers: [1, 2, 3, 4, 5].map((id) => ({ id, client: `tcp://127.0.0.1:${4999 + id}` })),
    electionTimeoutMs: [150, 300],
    heartbeatMs: 50,
    dataDir: "./data",
  };
}

/** A configuration that cannot be used: names the file and the field. Exit code 2. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`config ${file}: ${field}: ${problem}`);
  }
}

type Json = unknown;

/**
 * A field the configuration does not have, most likely a typo: named with
 * where it is, and the known field it was probably meant to be (or, when none
 * is close, the fields that are allowed there). Exit code 2, like any
 * ConfigError.
 */
export class UnknownFieldError extends ConfigError {
  constructor(file: string, field: string, suggestion: string | undefined, known: readonly string[]) {
    super(file, field, "is not a known field");
    const hint = suggestion === undefined ? `the fields here are ${known.join(", ")}` : `did you mean ${JSON.stringify(suggestion)}?`;
    this.message = `config ${file}: unknown field ${JSON.stringify(field)} (${hint})`;
  }
}

/** The field names of `T`, listed once: the Record type makes the compiler refuse a list that misses one. */
const fieldsOf = <T>(fields: Readonly<Record<keyof T, true>>): readonly string[] => Object.keys(fields);

const clusterFields = fieldsOf<ClusterConfig>({ forwarders: true, servers: true, electionTimeoutMs: true, heartbeatMs: true, dataDir: true, curve: true, snapshot: true });
const snapshotFields = fieldsOf<SnapshotConfig>({ entries: true, logBytes: true, keepEntries: true });
const forwarderFields = fieldsOf<ForwarderConfig>({ pub: true, sub: true });
const serverFields = fieldsOf<ServerConfig>({ id: true, client: true });
const curveFields = fieldsOf<CurveConfig>({ publicKey: true, secretKey: true, clients: true });

/**
 * Refuses a field of `section` that is not in `known`: a misspelt field would
 * otherwise be ignored and its default used without a word (a misspelt
 * `curve.clients` would even admit every client). `where` is the section's
 * path ("" at the top level).
 */
function rejectUnknownFields(section: Readonly<Record<string, Json>>, known: readonly string[], where: string, file: string): void {
  for (const name of Object.keys(section)) {
    if (!known.includes(name)) throw new UnknownFieldError(file, where === "" ? name : `${where}.${name}`, closestName(name, known), known);
  }
}

const isRecord = (value: Json): value is Record<string, Json> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Checks a parsed JSON document and fills in defaults. Throws ConfigError on
 * the first field of the wrong type or range, UnknownFieldError on the first
 * field that the config does not have, at any level.
 */
export function validateClusterConfig(document: Json, file: string): ClusterConfig {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(file, field, problem);
  };
  if (!isRecord(document)) fail("(top level)", "must be a JSON object");
  const doc = document as Record<string, Json>;
  rejectUnknownFields(doc, clusterFields, "", file);
  const defaults = defaultClusterConfig();
  const endpoint = (field: string, value: Json): string => {
    if (!isEndpoint(value)) return fail(field, `must be ${endpointRule}, got ${JSON.stringify(value)}`);
    return value;
  };
  const positiveInteger = (field: string, value: Json): number => {
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      return fail(field, `must be a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const nonEmptyArray = (field: string, value: Json): Json[] => {
    if (!Array.isArray(value) || value.length === 0) return fail(field, "must be a non-empty array");
    return value as Json[];
  };

  const forwarders =
    doc.forwarders === undefined
      ? defaults.forwarders
      : nonEmptyArray("forwarders", doc.forwarders).map((item, i) => {
          if (!isRecord(item)) return fail(`forwarders[${i}]`, "must be an object with pub and sub");
          rejectUnknownFields(item, forwarderFields, `forwarders[${i}]`, file);
          return { pub: endpoint(`forwarders[${i}].pub`, item.pub), sub: endpoint(`forwarders[${i}].sub`, item.sub) };
        });

  const servers =
    doc.servers === undefined
      ? defaults.servers
      : nonEmptyArray("servers", doc.servers).map((item, i) => {
          if (!isRecord(item)) return fail(`servers[${i}]`, "must be an object with id and client");
          rejectUnknownFields(item, serverFields, `servers[${i}]`, file);
          return { id: positiveInteger(`servers[${i}].id`, item.id), client: endpoint(`servers[${i}].client`, item.client) };
        });

  const ids = new Set<number>();
  servers.forEach((server, i) => {
    if (ids.has(server.id)) fail(`servers[${i}].id`, `duplicate id ${server.id}`);
    ids.add(server.id);
  });
  const endpoints = new Map<string, string>();
  const claim = (field: string, value: string): void => {
    const owner = endpoints.get(value);
    if (owner !== undefined) fail(field, `duplicate endpoint ${value} (also ${owner})`);
    endpoints.set(value, field);
  };
  forwarders.forEach((f, i) => {
    claim(`forwarders[${i}].pub`, f.pub);
    claim(`forwarders[${i}].sub`, f.sub);
  });
  servers.forEach((s, i) => claim(`servers[${i}].client`, s.client));

  const heartbeatMs = doc.heartbeatMs === undefined ? defaults.heartbeatMs : positiveInteger("heartbeatMs", doc.heartbeatMs);

  let electionTimeoutMs = defaults.electionTimeoutMs;
  if (doc.electionTimeoutMs !== undefined) {
    const range = doc.electionTimeoutMs;
    if (!Array.isArray(range) || range.length !== 2) fail("electionTimeoutMs", "must be an array [low, high] of milliseconds");
    const [low, high] = range as Json[];
    electionTimeoutMs = [positiveInteger("electionTimeoutMs[0]", low), positiveInteger("electionTimeoutMs[1]", high)];
  }
  if (electionTimeoutMs[0] <= heartbeatMs) {
    fail("electionTimeoutMs", `low end ${electionTimeoutMs[0]} must be above heartbeatMs ${heartbeatMs}`);
  }
  if (electionTimeoutMs[1] < electionTimeoutMs[0]) {
    fail("electionTimeoutMs", `high end ${electionTimeoutMs[1]} must not be below the low end ${electionTimeoutMs[0]}`);
  }

  let dataDir = defaults.dataDir;
  if (doc.dataDir !== undefined) {
    if (typeof doc.dataDir !== "string" || doc.dataDir.length === 0) fail("dataDir", "must be a non-empty string");
    dataDir = doc.dataDir as string;
  }

  const curve = doc.curve === undefined ? undefined : validateCurve(doc.curve, file, fail);
  const snapshot = doc.snapshot === undefined ? undefined : validateSnapshot(doc.snapshot, file, fail);

  return { forwarders, servers, electionTimeoutMs, heartbeatMs, dataDir, ...(curve ? { curve } : {}), ...(snapshot ? { snapshot } : {}) };
}

/** The `snapshot` section: counts of entries and bytes; `keepEntries` may be 0 (keep no log below a snapshot). */
function validateSnapshot(section: Json, file: string, fail: (field: string, problem: string) => never): SnapshotConfig {
  if (!isRecord(section)) return fail("snapshot", "must be an object with entries, logBytes and keepEntries (each optional)");
  rejectUnknownFields(section, snapshotFields, "snapshot", file);
  const count = (name: keyof SnapshotConfig, least: number): { [name: string]: number } => {
    const value = section[name];
    if (value === undefined) return {};
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < least) {
      return fail(`snapshot.${name}`, `must be an integer of at least ${least}, got ${JSON.stringify(value)}`);
    }
    return { [name]: value };
  };
  return { ...count("entries", 1), ...count("logBytes", 1), ...count("keepEntries", 0) };
}

/**
 * The `curve` section: no field but its own, every key 40 characters of Z85
 * that decode to 32 bytes, and `secretKey`, when present, the one that
 * belongs to `publicKey`, so that a typo stops the program at start-up
 * instead of leaving every handshake to fail later.
 */
function validateCurve(section: Json, file: string, fail: (field: string, problem: string) => never): CurveConfig {
  if (!isRecord(section)) return fail("curve", "must be an object with publicKey and secretKey (and optionally clients)");
  rejectUnknownFields(section, curveFields, "curve", file);
  const key = (field: string, value: Json): string => {
    const bytes = decodeCurveKey(value);
    if (typeof bytes === "string") return fail(field, bytes);
    return value as string;
  };
  const publicKey = key("curve.publicKey", section.publicKey);
  const secretKey = section.secretKey === undefined ? undefined : key("curve.secretKey", section.secretKey);
  if (secretKey !== undefined && curvePublicKeyOf(secretKey) !== publicKey) {
    fail("curve.secretKey", "does not belong to curve.publicKey (make a matching pair with: npm run ctl -- keygen)");
  }
  const pair = secretKey === undefined ? { publicKey } : { publicKey, secretKey };
  if (section.clients === undefined) return pair;
  if (!Array.isArray(section.clients) || section.clients.length === 0) {
    return fail("curve.clients", "must be a non-empty array of Z85 public keys (leave it out to admit any client that knows publicKey)");
  }
  const clients = (section.clients as Json[]).map((value, i) => key(`curve.clients[${i}]`, value));
  clients.forEach((client, i) => {
    if (clients.indexOf(client) !== i) fail(`curve.clients[${i}]`, `duplicate key (also curve.clients[${clients.indexOf(client)}])`);
  });
  return { ...pair, clients };
}

/**
 * The cluster's key pair from a config's `curve` section, for a server or a
 * forwarder, which cannot do without the secret key.
 * @throws ConfigError naming `file` when the section has no secretKey (exit code 2)
 */
export function clusterKeyPair(curve: CurveConfig, file: string): CurveKeyPair {
  if (curve.secretKey === undefined) {
    throw new ConfigError(file, "curve.secretKey", "is missing: servers and forwarders need the cluster's secret key (only a client's copy of the config leaves it out)");
  }
  return { publicKey: curve.publicKey, secretKey: curve.secretKey };
}

/**
 * Loads the configuration named by `--config` (or ZRAFT_CONFIG); the built-in
 * default cluster when neither is given.
 */
export function loadClusterConfig(path: string | undefined = process.env.ZRAFT_CONFIG): ClusterConfig {
  if (path === undefined || path === "") return defaultClusterConfig();
  const document = readJsonFile(path, (problem) => {
    throw new ConfigError(path, "(file)", problem);
  });
  return validateClusterConfig(document, path);
}

export function serverById(config: ClusterConfig, id: number): ServerConfig | undefined {
  return config.servers.find((server) => server.id === id);
}
