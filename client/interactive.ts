/**
 * The interactive client (`npm run client` with no command): pick a server,
 * then PUT / GET / DELETE / LIST / CAS / STATUS in a loop, told in plain
 * words what the client library does underneath (redirects to the leader,
 * retries during an election, failover past a dead server), one notice per
 * change (interactive-notices.ts). Prompts are the client's own
 * (interactive-keyboard.ts): they stay responsive whatever is pasted into
 * them, and Ctrl-C ends the session at any moment, a request in flight
 * included. Large and binary values come from a file or an editor
 * (interactive-values.ts), not from the line editor.
 */
import { editor } from "@inquirer/prompts";
import type { ClusterConfig, ServerConfig } from "../src/config/cluster-config.ts";
import { ZraftError } from "../src/protocol/errors.ts";
import { keyBytesMax, valueBytesMax } from "../src/protocol/limits.ts";
import { assertNever } from "../src/base/assert.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import { ZraftClient, type StatusReply } from "../src/client/zraft-client.ts";
import { Interrupted, Keyboard, type LinePromptOptions } from "./interactive-keyboard.ts";
import { OperationNotices, where } from "./interactive-notices.ts";
import { Spinner } from "./interactive-spinner.ts";
import { ValueInputError, editedValue, typedValue, valueSyntax } from "./interactive-values.ts";
import { fitStart, formatSize, valuePreview, valueSize } from "./value-preview.ts";
import { toJsonText } from "./json-text.ts";

export interface InteractiveOptions {
  readonly config: ClusterConfig;
  /** The client's CURVE keys, when the config has a curve section (docs/protocol.md §10). */
  readonly curve?: CurveClientKeys;
}

type Action = "put" | "get" | "delete" | "list" | "cas" | "status" | "switch" | "help" | "quit";

const actions: ReadonlyArray<{ readonly value: Action; readonly name: string; readonly description: string }> = [
  { value: "put", name: "PUT", description: "store a value under a key" },
  { value: "get", name: "GET", description: "read a key" },
  { value: "delete", name: "DELETE", description: "remove a key" },
  { value: "list", name: "LIST", description: "keys and values, by prefix" },
  { value: "cas", name: "CAS", description: "compare and swap: write only if the key holds what you expect" },
  { value: "status", name: "STATUS", description: "every server's role, term and log" },
  { value: "switch", name: "switch server", description: "talk to another server first" },
  { value: "help", name: "help", description: "how to enter values, large ones from a file or your editor" },
  { value: "quit", name: "quit", description: "" },
];

/** How long each server gets to answer `status` when the servers are listed. */
const probeTimeoutMs = 300;
/** GET prints a value whole up to this many characters of JSON text; longer ones are cut to one line. */
const wholeValueCharsMax = 4096;

/** Every line prompt takes the largest value the protocol allows, and no more. */
const lineLimits: Pick<LinePromptOptions, "maxChars" | "tooLong" | "moreLines"> = {
  maxChars: valueBytesMax,
  tooLong: `that line is longer than ${valueBytesMax.toLocaleString("en-US")} characters, more than any value can hold, so it was not used; put a large value in a file and type "@" then its name`,
  moreLines: 'only the first line was taken; for text of several lines leave the value empty to open your editor, or type "@" then a file name',
};

const helpText = `Keys are typed as they are (at most ${keyBytesMax} bytes of UTF-8). A value is typed as
  text          a string, exactly as typed
  =JSON         that JSON value: =42, =true, ={"a":[1,2]}, ="@not a file"
  @FILE         the file's contents, byte-exact: a string when the file is UTF-8, else binary.
                This is the way to store a large value (up to 1 MiB) or a binary one.
                A relative name is read from the folder you ran npm in; ~/ is your home.
  empty line    opens your editor ($VISUAL, else $EDITOR, else vim); the line break
                editors add at the end of the file is dropped
CAS asks for the value the key holds now in the same forms; there, an empty line means
"the key must be absent". GET shows a value whole up to ${wholeValueCharsMax.toLocaleString("en-US")} characters, LIST one line
per key; longer values are cut to the terminal's width, with their size. To save a value
whole in a file: npm run -s client -- get KEY --raw > FILE
In a line, Backspace erases and Ctrl-U clears. Ctrl-C quits at any time, also while a
request is waiting for an answer.`;

interface Probe {
  readonly server: ServerConfig;
  readonly status: StatusReply | undefined;
}

/** Asks every server for its status at once, each with its own socket. */
async function probeServers(config: ClusterConfig, curve: CurveClientKeys | undefined): Promise<Probe[]> {
  return Promise.all(
    config.servers.map(async (server) => {
      const client = new ZraftClient({ config, ...(curve === undefined ? {} : { curve }) });
      try {
        return { server, status: await client.status(server.id, { timeoutMs: probeTimeoutMs }) };
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

function validateKey(text: string): true | string {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes === 0) return "a key needs at least one character";
  return bytes <= keyBytesMax ? true : `a key is at most ${keyBytesMax} bytes of UTF-8 (this one has ${bytes})`;
}

/** Ctrl-C in inquirer's editor prompt, or our own abort of it. */
function isPromptExit(error: unknown): boolean {
  return error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError");
}

/**
 * Runs the interactive client until the user quits, presses Ctrl-C, the
 * input ends or the process gets SIGINT or SIGTERM; resolves with the exit
 * code (0). A request in flight is abandoned, not waited for.
 */
export async function runInteractive(options: InteractiveOptions): Promise<number> {
  const { config, curve } = options;
  const keyboard = new Keyboard(process.stdin, process.stdout);
  const spinner = new Spinner(process.stderr);
  const notices = new OperationNotices(config);
  const say = (text: string): void => {
    spinner.around(() => process.stdout.write(`${text}\n`));
  };
  const columns = (): number => (process.stdout.columns ?? 80) - 1;
  // npm runs the client in the project's folder; the user's own folder is where file names typed at a prompt start.
  const baseDir = process.env.INIT_CWD ?? process.cwd();
  let client: ZraftClient | undefined;

  /** What the last request's notices sum up to, said after its result. */
  let summary: string | undefined;
  /** Runs one request with the spinner and its notices; abandons it on Ctrl-C. */
  const working = async <T>(label: string, operation: () => Promise<T>): Promise<T> => {
    notices.begin(performance.now());
    summary = undefined;
    spinner.start(label);
    try {
      const result = await keyboard.whileWorking(operation());
      // The server that answered is up again, whatever was said of it before.
      notices.answered(client?.currentServerId ?? null);
      summary = notices.end("succeeded", performance.now());
      return result;
    } catch (error) {
      if (!(error instanceof Interrupted)) summary = notices.end("failed", performance.now());
      throw error;
    } finally {
      spinner.stop();
    }
  };

  const chooseServer = async (): Promise<ZraftClient> => {
    const probes = await working("asking every server for its status…", () => probeServers(config, curve));
    const leader = probes.find((probe) => probe.status?.role === "leader");
    const serverId = await keyboard.choose(
      "Which server should the client talk to first?",
      probes.map((probe) => ({ value: probe.server.id, name: describeProbe(probe) })),
      leader?.server.id,
    );
    const chosen = new ZraftClient({ config, serverId, ...(curve === undefined ? {} : { curve }) });
    const notice = (text: string | undefined): void => {
      if (text !== undefined) say(text);
    };
    chosen.on("redirect", (event) => notice(notices.redirect(event)));
    chosen.on("retry", (event) => notice(notices.retry(event)));
    chosen.on("failover", (event) => notice(notices.failover(event)));
    return chosen;
  };

  const key = (): Promise<string> => keyboard.readLine("key", { ...lineLimits, validate: validateKey });

  /** A value in any form of `help`; an empty line opens the editor, or, for `emptyMeans: "absent"`, is null. */
  const value = async (message: string, emptyMeans: "editor" | "absent"): Promise<unknown> => {
    const empty = emptyMeans === "editor" ? "empty: your editor" : "empty: the key must be absent";
    let initial = "";
    for (;;) {
      const text = await keyboard.readLine(`${message} (${valueSyntax}; ${empty})`, { ...lineLimits, initial });
      if (text === "") return emptyMeans === "editor" ? editedValue(await edit(message)) : null;
      try {
        return await typedValue(text, baseDir);
      } catch (error) {
        if (!(error instanceof ValueInputError)) throw error;
        say(`  ✘ ${error.message}`);
        initial = text;
      }
    }
  };

  const edit = (message: string): Promise<string> =>
    keyboard.released(async () => {
      try {
        return await editor({ message: `${message}: write it in your editor, then save and close the file`, waitForUserInput: false }, { signal: keyboard.signal });
      } catch (error) {
        throw isPromptExit(error) ? new Interrupted() : error;
      }
    });

  /** `head` and a value on one line: whole when `whole` allows and it is short, else cut to the terminal's width with its size. */
  const shown = (head: string, item: unknown, whole: boolean): string => {
    const text = toJsonText(item);
    if (whole && text.length <= wholeValueCharsMax) return `${head}${text}`;
    return `${head}${valuePreview(item, Math.max(20, columns() - head.length))}`;
  };
  /** "key = value", the key cut to half the terminal's width. */
  const pair = (k: string, item: unknown, whole: boolean): string => shown(`${fitStart(k, Math.floor(columns() / 2))} = `, item, whole);

  const perform = async (action: Exclude<Action, "switch" | "help" | "quit">, current: ZraftClient): Promise<string[]> => {
    switch (action) {
      case "put": {
        const k = await key();
        const v = await value("value", "editor");
        const reply = await working("working…", () => current.put(k, v));
        return [`OK: ${k} stored at index ${reply.index}${valueSize(v) > wholeValueCharsMax ? ` (${formatSize(valueSize(v))})` : ""}`];
      }
      case "get": {
        const k = await key();
        const reply = await working("working…", () => current.get(k));
        return [reply.found ? pair(k, reply.value, true) : `${k}: (not found)`];
      }
      case "delete": {
        const k = await key();
        const reply = await working("working…", () => current.delete(k));
        return [reply.found ? `deleted ${k} (index ${reply.index})` : `${k}: (not found), nothing deleted`];
      }
      case "list": {
        const prefix = await keyboard.readLine("key prefix (empty for all keys)", lineLimits);
        const reply = await working("working…", () => current.listAll(prefix === "" ? undefined : prefix));
        return reply.entries.length === 0 ? ["(no keys)"] : reply.entries.map(([k, v]) => pair(k, v, false));
      }
      case "cas": {
        const k = await key();
        const expected = await value("expected current value", "absent");
        const v = await value("new value", "editor");
        const reply = await working("working…", () => current.cas(k, expected, v));
        if (reply.swapped) return [`${shown(`swapped: ${k} = `, reply.value, true)} (index ${reply.index})`];
        return [reply.value === null ? `not swapped: ${k} holds nothing` : shown(`not swapped: ${k} holds `, reply.value, true)];
      }
      case "status": {
        const probes = await working("asking every server for its status…", () => probeServers(config, curve));
        return probes.map((probe) => {
          const status = probe.status;
          return status === undefined
            ? describeProbe(probe)
            : `${describeProbe(probe)}; commit ${status.commitIndex}, applied ${status.lastApplied}, last log ${status.lastLogIndex}, pid ${status.pid}`;
        });
      }
      default:
        return assertNever(action, "action");
    }
  };

  const onSignal = (): void => keyboard.interrupt();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    say(`zraft interactive client: ${config.servers.length} servers in the config. Choose "help" for how to enter values; Ctrl-C to quit.`);
    client = await chooseServer();
    for (;;) {
      const action = await keyboard.choose("What next?", actions);
      switch (action) {
        case "quit":
          say("bye");
          return 0;
        case "switch":
          client.close();
          client = await chooseServer();
          continue;
        case "help":
          say(helpText);
          continue;
        default:
      }
      try {
        for (const line of await perform(action, client)) say(line);
      } catch (error) {
        if (error instanceof Interrupted) throw error;
        const code = error instanceof ZraftError ? `${error.code}: ` : "";
        say(`error: ${code}${error instanceof Error ? error.message : String(error)}`);
      }
      if (summary !== undefined) say(summary);
      summary = undefined;
    }
  } catch (error) {
    if (error instanceof Interrupted) {
      say("bye");
      return 0;
    }
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    spinner.stop();
    keyboard.close();
    client?.close();
  }
}
