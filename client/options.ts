/**
 * Every long option of the `zraft` command, with what `--help` says about
 * it and what applies when it is left out. The parser's spec, the help
 * texts and the shell completions are all made from this one table.
 */
import type { OptionSpec } from "../src/cli/args.ts";

export interface OptionDoc {
  /** What stands for its value in help texts (FILE, N); absent for a flag. */
  readonly value?: string;
  readonly help: string;
  /** What applies when the option is absent. */
  readonly fallback: string;
}

const docs = {
  config: {
    value: "FILE",
    help: "the cluster configuration",
    fallback: "$ZRAFT_CONFIG, else the built-in cluster (servers 1 to 5 on tcp://127.0.0.1:5000 to 5004)",
  },
  key: {
    value: "FILE",
    help: "this client's CURVE key pair, needed when the config has a curve section (make one with: zraft keygen > client-key.json)",
    fallback: "$ZRAFT_CLIENT_KEY, else none",
  },
  endpoints: {
    value: "LIST",
    help: "the servers to try first, in this order: comma-separated HOST:PORT (or tcp://HOST:PORT) client endpoints of the config's servers",
    fallback: "the config's servers, in order",
  },
  server: {
    value: "N",
    help: "the id of the server to try first; for backup, the server to back up",
    fallback: "the config's first server; for backup, the leader",
  },
  json: {
    help: 'print exactly one JSON object on stdout: the reply (integers beyond 2^53 as plain digits, binary as {"$binary": base64})',
    fallback: "lines for a person",
  },
  "json-value": {
    help: "read VALUE, EXPECTED and NEW (and a value from standard input or --file) as JSON",
    fallback: 'as strings (EXPECTED "null" means "absent" either way)',
  },
  file: {
    value: "FILE",
    help: "take the value from FILE, byte for byte: a string when it is valid UTF-8, else binary; at most 1,048,571 bytes",
    fallback: "the VALUE argument; standard input when VALUE is - or left out",
  },
  raw: {
    help: "write exactly the value's bytes to stdout, with no newline (a string as its UTF-8); for a value that is neither a string nor binary, fail and say so",
    fallback: "a line for a person: a string as it is, anything else as JSON",
  },
  limit: { value: "N", help: "list at most N keys", fallback: "every key" },
  from: {
    value: "N",
    help: "start at log index N: an index printed earlier, plus one, resumes where that run stopped",
    fallback: "the changes applied from now on",
  },
  watch: { help: "redraw the table about 4 times a second until Ctrl-C", fallback: "print the table once" },
  client: {
    value: "ENDPOINT",
    help: "for add: where the new server takes clients (its client endpoint in its own config file), e.g. tcp://127.0.0.1:5005",
    fallback: "none: add needs it",
  },
  "config-out": {
    value: "FILE",
    help: "write a copy of the config (--config) with a new cluster key pair to FILE, which must not exist yet",
    fallback: "print a new client key pair",
  },
  help: { help: "print this help and exit (also -h)", fallback: "run the command" },
} as const satisfies Readonly<Record<string, OptionDoc>>;

export type OptionName = keyof typeof docs;

export const optionDocs: Readonly<Record<OptionName, OptionDoc>> = docs;

export const optionNames = Object.keys(optionDocs) as readonly OptionName[];

/** The parser's view of the table: every option any command takes. */
export const zraftOptionSpec: OptionSpec = {
  flags: optionNames.filter((name) => optionDocs[name].value === undefined),
  values: optionNames.filter((name) => optionDocs[name].value !== undefined),
};

/** The options that tell the command where the cluster is and how to reach it. */
export const clusterOptions = ["config", "key"] as const satisfies readonly OptionName[];

/** The options of the one-shot data commands on top of those: where to start, and how to print. */
export const dataOptions = [...clusterOptions, "endpoints", "server", "json"] as const satisfies readonly OptionName[];
