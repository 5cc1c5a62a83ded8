/**
 * The interactive client (`npm run client` with no command): pick a server,
 * then PUT / GET / DELETE / LIST / CAS / STATUS in a loop, told in plain
 * words what the client library does underneath (redirects to the leader,
 * retries during an election, failover past a dead server).
 */
import { input, select } from "@inquirer/prompts";
import type { ClusterConfig, ServerConfig } from "../src/config/cluster-config.ts";
import { ZraftError } from "../src/protocol/errors.ts";
import { keyBytesMax } from "../src/protocol/limits.ts";
import { assertNever } from "../src/base/assert.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import { toJsonText } from "./json-text.ts";
import { ZraftClient, type FailoverEvent, type RedirectEvent, type RetryEvent, type StatusReply } from "../src/client/zraft-client.ts";

/** inquirer's prompt context: where prompts read keys and draw. */
export interface PromptContext {
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
}

export interface InteractiveOptions {
  readonly config: ClusterConfig;
  /** The client's CURVE keys, when the config has a curve section (docs/protocol.md §10). */
  readonly curve?: CurveClientKeys;
  /** Streams for the prompts; the process's own by default (tests pass others). */
  readonly context?: PromptContext;
  /** Where results and notices go; `context.output`, else stdout, by default. */
  readonly output?: { write(text: string): unknown };
  /** Where the "working" spinner is drawn; stderr by default, and only if it is a terminal. */
  readonly spinnerStream?: NodeJS.WriteStream;
  /** How long each server gets to answer `status` when the servers are listed (default 300 ms). */
  readonly probeTimeoutMs?: number;
}

type Action = "put" | "get" | "delete" | "list" | "cas" | "status" | "switch" | "quit";

const actions: ReadonlyArray<{ readonly value: Action; readonly name: string; readonly description: string }> = [
  { value: "put", name: "PUT", description: "store a value under a key" },
  { value: "get", name: "GET", description: "read a key" },
  { value: "delete", name: "DELETE", description: "remove a key" },
  { value: "list", name: "LIST", description: "keys and values, by prefix" },
  { value: "cas", name: "CAS", description: "compare and swap: write only if the key holds what you expect" },
  { value: "status", name: "STATUS", description: "every server's role, term and log" },
  { value: "switch", name: "switch server", description: "talk to another server first" },
  { value: "quit", name: "quit", description: "" },
];

/** "port 5003" for a TCP endpoint, else the endpoint itself. */
function where(endpoint: string): string {
  const match = /^tcp:\/\/.*:(\d+)$/.exec(endpoint);
  return match === null ? endpoint : `port ${match[1]}`;
}

function serverName(config: ClusterConfig, id: number | null, endpoint?: string): string {
  if (id === null) return endpoint ?? "an unknown server";
  const server = config.servers.find((candidate) => candidate.id === id);
  return `server ${id} (${where(server?.client ?? endpoint ?? "?")})`;
}

interface Probe {
  readonly server: ServerConfig;
  readonly status: StatusReply | undefined;
}

/** Asks every server for its status at once, each with its own socket. */
async function probeServers(config: ClusterConfig, curve: CurveClientKeys | undefined, timeoutMs: number): Promise<Probe[]> {
  return Promise.all(
    config.servers.map(async (server) => {
      const client = new ZraftClient({ config, ...(curve === undefined ? {} : { curve }) });
      try {
        return { server, status: await client.status(server.id, { timeoutMs }) };
      } catch {
        return { server, status: undefined };
      } finally {
        client.close();
      }
    }),
  );
}

function describeProbe(probe: Probe): string {
  const name = `server ${probe.server.id} (${where(probe.server.client)})`;
  const status = probe.status;
  if (status === undefined) return `${name}: not answering`;
  if (status.role === "leader") return `${name}: leader, term ${status.term}`;
  const leader = status.leaderId === null ? "no leader known" : `leader is server ${status.leaderId}`;
  return `${name}: ${status.role}, term ${status.term}, ${leader}`;
}

/** A value typed by the user: text, or JSON after a leading "=". */
function parseTypedValue(text: string): unknown {
  return text.startsWith("=") ? JSON.parse(text.slice(1)) : text;
}

function validateTypedValue(text: string): true | string {
  if (!text.startsWith("=")) return true;
  try {
    JSON.parse(text.slice(1));
    return true;
  } catch (error) {
    return `not valid JSON after "=": ${(error as Error).message}`;
  }
}

function validateKey(text: string): true | string {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes === 0) return "a key needs at least one character";
  return bytes <= keyBytesMax ? true : `a key is at most ${keyBytesMax} bytes of UTF-8 (this one has ${bytes})`;
}

/** A one-line spinner on a terminal; nothing elsewhere. */
class Spinner {
  static readonly #frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  #timer: NodeJS.Timeout | undefined;
  #frame = 0;
  #label = "";

  constructor(private readonly stream: NodeJS.WriteStream | undefined) {}

  start(label: string): void {
    if (this.stream?.isTTY !== true) return;
    this.#label = label;
    this.#timer ??= setInterval(() => this.#draw(), 100);
    this.#draw();
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#erase();
  }

  /** Writes a line of text without mixing it into the spinner's line; the spinner redraws below it. */
  around(write: () => void): void {
    if (this.#timer !== undefined) this.#erase();
    write();
    if (this.#timer !== undefined) this.#draw();
  }

  #erase(): void {
    this.stream?.write("\r\x1b[2K");
  }

  #draw(): void {
    this.#frame = (this.#frame + 1) % Spinner.#frames.length;
    this.stream?.write(`\r\x1b[2K${Spinner.#frames[this.#frame]} ${this.#label}`);
  }
}

/** A terminal's input stream, as far as raw mode goes. */
type KeyboardStream = NodeJS.ReadableStream & { readonly isTTY?: boolean; setRawMode?(mode: boolean): unknown };

/**
 * While a request runs, no prompt reads the keyboard, so the terminal is
 * back in cooked mode and Ctrl-C would become a SIGINT to the whole process
 * group, npm included (which then exits 130 however cleanly we stop). This
 * reads keys itself in raw mode meanwhile, so Ctrl-C stays a key, as it is
 * in a prompt; other keys typed meanwhile are dropped.
 */
async function withKeysCaptured<T>(input: KeyboardStream, onCtrlC: () => void, work: () => Promise<T>): Promise<T> {
  if (input.isTTY !== true || input.setRawMode === undefined) return work();
  const onData = (chunk: Buffer | string): void => {
    if (chunk.toString().includes("\x03")) onCtrlC();
  };
  input.setRawMode(true);
  input.on("data", onData);
  input.resume();
  try {
    return await work();
  } finally {
    input.off("data", onData);
    input.setRawMode(false);
    input.pause();
  }
}

/** Ctrl-C in a prompt (ExitPromptError) or our own abort after a SIGINT (AbortPromptError). */
function isPromptExit(error: unknown): boolean {
  return error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError");
}

/**
 * Runs the interactive client until the user quits or presses Ctrl-C;
 * resolves with the exit code (0). Ctrl-C in a prompt ends that prompt
 * (inquirer's ExitPromptError); Ctrl-C while a request runs (a key read in
 * raw mode on a terminal, else a SIGINT) closes the client, abandoning the
 * request, and ends the session too.
 */
export async function runInteractive(options: InteractiveOptions): Promise<number> {
  const { config, curve } = options;
  const interrupt = new AbortController();
  const context = { ...options.context, signal: interrupt.signal };
  const keyboard: KeyboardStream = options.context?.input ?? process.stdin;
  const output = options.output ?? context.output ?? process.stdout;
  const spinner = new Spinner(options.spinnerStream ?? process.stderr);
  const say = (text: string): void => {
    spinner.around(() => output.write(`${text}\n`));
  };
  const probeTimeoutMs = options.probeTimeoutMs ?? 300;
  const serverStates = new ServerStates();
  let client: ZraftClient | undefined;

  const chooseServer = async (): Promise<ZraftClient> => {
    const probes = await working("asking every server for its status…", () => probeServers(config, curve, probeTimeoutMs));
    const leader = probes.find((probe) => probe.status?.role === "leader");
    const serverId = await select(
      {
        message: "Which server should the client talk to first?",
        choices: probes.map((probe) => ({ value: probe.server.id, name: describeProbe(probe) })),
        default: leader?.server.id,
        pageSize: Math.max(7, probes.length),
      },
      context,
    );
    const chosen = new ZraftClient({ config, serverId, ...(curve === undefined ? {} : { curve }) });
    chosen.on("redirect", (event: RedirectEvent) => {
      say(`  ↪ redirected from ${serverName(config, event.from)} to the leader, ${serverName(config, event.to, event.endpoint)}`);
    });
    chosen.on("retry", (event: RetryEvent) => {
      const why = event.reason === "NO_LEADER" ? "election under way" : "the write was not confirmed in time";
      say(`  … ${why}, retrying in ${event.delayMs} ms (attempt ${event.attempt + 1})`);
    });
    chosen.on("failover", (event: FailoverEvent) => {
      if (!serverStates.changed(event)) return;
      say(`  ✗ ${failoverReason(event, config)}, trying ${serverName(config, event.to, event.endpoint)}`);
    });
    serverStates.clear();
    return chosen;
  };

  const key = (message: string): Promise<string> => input({ message, validate: validateKey }, context);
  const typedValue = async (message: string): Promise<unknown> =>
    parseTypedValue(await input({ message: `${message} (text, or "=" then JSON: =42, ={"a":1})`, validate: validateTypedValue }, context));

  const perform = async (action: Exclude<Action, "switch" | "quit">, current: ZraftClient): Promise<void> => {
    switch (action) {
      case "put": {
        const k = await key("key");
        const value = await typedValue("value");
        const reply = await working("working…", () => current.put(k, value));
        say(`OK: ${k} stored at index ${reply.index}`);
        return;
      }
      case "get": {
        const k = await key("key");
        const reply = await working("working…", () => current.get(k));
        say(reply.found ? `${k} = ${toJsonText(reply.value)}` : `${k}: (not found)`);
        return;
      }
      case "delete": {
        const k = await key("key");
        const reply = await working("working…", () => current.delete(k));
        say(reply.found ? `deleted ${k} (index ${reply.index})` : `${k}: (not found), nothing deleted`);
        return;
      }
      case "list": {
        const prefix = await input({ message: "key prefix (empty for all keys)" }, context);
        const reply = await working("working…", () => current.listAll(prefix === "" ? undefined : prefix));
        if (reply.entries.length === 0) say("(no keys)");
        for (const [k, value] of reply.entries) say(`${k} = ${toJsonText(value)}`);
        return;
      }
      case "cas": {
        const k = await key("key");
        const expectedText = await input(
          { message: 'expected current value (empty: the key must be absent; text, or "=" then JSON)', validate: validateTypedValue },
          context,
        );
        const expected = expectedText === "" ? null : parseTypedValue(expectedText);
        const value = await typedValue("new value");
        const reply = await working("working…", () => current.cas(k, expected, value));
        say(
          reply.swapped
            ? `swapped: ${k} = ${toJsonText(reply.value)} (index ${reply.index})`
            : `not swapped: ${k} holds ${reply.value === null ? "nothing" : toJsonText(reply.value)}`,
        );
        return;
      }
      case "status": {
        const probes = await working("asking every server for its status…", () => probeServers(config, curve, probeTimeoutMs));
        for (const probe of probes) {
          const status = probe.status;
          say(
            status === undefined
              ? describeProbe(probe)
              : `${describeProbe(probe)}; commit ${status.commitIndex}, applied ${status.lastApplied}, last log ${status.lastLogIndex}, pid ${status.pid}`,
          );
        }
        return;
      }
      default:
        assertNever(action, "action");
    }
  };

  const working = async <T>(label: string, operation: () => Promise<T>): Promise<T> => {
    spinner.start(label);
    try {
      const result = await withKeysCaptured(keyboard, onSigint, operation);
      // The server that answered is up again, whatever was said of it before.
      serverStates.answered(client?.currentServerId ?? null);
      return result;
    } finally {
      spinner.stop();
    }
  };

  /** Ctrl-C outside a prompt: as a key while a request runs, or a SIGINT from elsewhere. */
  const onSigint = (): void => {
    interrupt.abort();
    spinner.stop();
    client?.close();
  };
  process.on("SIGINT", onSigint);
  try {
    say(`zraft interactive client: ${config.servers.length} servers in the config. Ctrl-C to quit.`);
    client = await chooseServer();
    for (;;) {
      const action = await select({ message: "What next?", choices: actions, pageSize: actions.length }, context);
      if (action === "quit") {
        say("bye");
        return 0;
      }
      if (action === "switch") {
        client.close();
        client = await chooseServer();
        continue;
      }
      try {
        await perform(action, client);
      } catch (error) {
        if (isPromptExit(error) || interrupt.signal.aborted) throw error;
        const code = error instanceof ZraftError ? `${error.code}: ` : "";
        say(`error: ${code}${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } catch (error) {
    if (isPromptExit(error) || interrupt.signal.aborted) {
      say("bye");
      return 0;
    }
    throw error;
  } finally {
    process.off("SIGINT", onSigint);
    spinner.stop();
    client?.close();
  }
}

/**
 * What was last said of each server the client turned away from, so that a
 * server is reported once when it goes away (or changes how it fails), not on
 * every round of retries while it stays away.
 */
class ServerStates {
  /** By server id; null for a server outside the config, which the events do not name. */
  readonly #said = new Map<number | null, FailoverEvent["reason"]>();

  /**
   * Records `event`; whether it says something new of its server. A server
   * that closed the connection and then does not answer is still the same
   * server gone, told once.
   */
  changed(event: FailoverEvent): boolean {
    const server = event.from;
    const said = this.#said.get(server);
    if (said === event.reason || (said === "disconnected" && event.reason === "no-reply")) return false;
    this.#said.set(server, event.reason);
    return true;
  }

  /** Server `id` answered: a later failure of it is news again. */
  answered(id: number | null): void {
    if (id !== null) this.#said.delete(id);
  }

  clear(): void {
    this.#said.clear();
  }
}

function failoverReason(event: FailoverEvent, config: ClusterConfig): string {
  const from = serverName(config, event.from);
  switch (event.reason) {
    case "no-reply":
      return `${from} is not answering`;
    case "disconnected":
      return `${from} closed the connection`;
    case "shutting-down":
      return `${from} is shutting down`;
    case "bad-reply":
      return `${from} sent a reply that breaks the protocol`;
    case "bad-endpoint":
      return `${from} cannot be connected to`;
    default:
      return assertNever(event.reason, "failover reason");
  }
}
