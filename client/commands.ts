/**
 * The subcommands of `zraft`: their operands, what they do, and which
 * options each takes. Help texts (help.ts), the dispatcher (zraft.ts) and
 * the shell completions (completion.ts) are made from this table.
 */
import { clusterOptions, dataOptions, type OptionName } from "./options.ts";

/** Which part of the help a command is listed in. */
export type CommandGroup = "data" | "cluster" | "shell";

export interface CommandDoc {
  readonly name: string;
  /** The operands, as the usage line shows them. */
  readonly operands: string;
  /** The smallest and largest number of operands. */
  readonly arity: readonly [number, number];
  /** One line for the command list. */
  readonly summary: string;
  /** More lines for the command's own --help. */
  readonly details: readonly string[];
  /** The options it takes (--help aside, which every command takes). */
  readonly options: readonly OptionName[];
  readonly group: CommandGroup;
}

/** The controller's actions on server N, which differ only in what they do. */
function serverAction(name: string, summary: string): CommandDoc {
  return {
    name,
    operands: "N",
    arity: [1, 1],
    summary,
    details: ["exits 0 when done, 1 when the server refused (with its sentence) or did not answer"],
    options: [...clusterOptions, "json"],
    group: "cluster",
  };
}

export const commandDocs: readonly CommandDoc[] = [
  {
    name: "get",
    operands: "KEY",
    arity: [1, 1],
    summary: "print KEY's value; exit 1 when it is absent",
    details: [
      "prints the value on stdout: a string as it is, anything else as JSON;",
      "a KEY that is absent exits 1 with a line on stderr (with --json, the reply still goes to stdout)",
      "zraft get KEY --raw > FILE gives back exactly the bytes a put from a file or stdin stored",
    ],
    options: [...dataOptions, "raw"],
    group: "data",
  },
  {
    name: "put",
    operands: "KEY [VALUE | -]",
    arity: [1, 2],
    summary: "set KEY to VALUE, or to standard input (VALUE - or left out), or to --file",
    details: [
      "prints OK (index N), N the log index of the write",
      "from standard input or --file the value is byte-exact: a string when the bytes are valid UTF-8, else binary;",
      "at most 1,048,571 bytes (1 MiB of MessagePack, less its 5-byte header)",
    ],
    options: [...dataOptions, "json-value", "file"],
    group: "data",
  },
  {
    name: "delete",
    operands: "KEY",
    arity: [1, 1],
    summary: "remove KEY",
    details: ["prints deleted (index N), or (not found, index N) when KEY was absent: both exit 0"],
    options: dataOptions,
    group: "data",
  },
  {
    name: "list",
    operands: "[PREFIX]",
    arity: [0, 1],
    summary: "the keys under PREFIX (every key without one) and their values, in key order",
    details: [
      "one line per key: KEY  VALUE, the value as JSON cut to the terminal's width (80 columns when stdout is not a terminal),",
      "followed by its size when cut; with --json, the whole values",
    ],
    options: [...dataOptions, "limit"],
    group: "data",
  },
  {
    name: "cas",
    operands: "KEY EXPECTED NEW",
    arity: [3, 3],
    summary: "set KEY to NEW if it holds EXPECTED (null: if it is absent); exit 1 when it did not",
    details: ["prints swapped (index N); when KEY holds something else, exits 1 and says what it holds (with --json, the reply still goes to stdout)"],
    options: [...dataOptions, "json-value"],
    group: "data",
  },
  {
    name: "watch",
    operands: "[PREFIX]",
    arity: [0, 1],
    summary: "print every committed change to keys under PREFIX (every key without one), in log order, until Ctrl-C",
    details: [
      "one line per change: INDEX put KEY=VALUE (the value as get prints it) or INDEX delete KEY; with --json, one JSON object per line;",
      "any server answers, and when it goes away the watch goes on at another from where it was;",
      "exits 0 on Ctrl-C (SIGINT) or SIGTERM, 1 when the changes at --from are no longer kept (COMPACTED) or no server answers",
    ],
    options: [...dataOptions, "from"],
    group: "data",
  },
  {
    name: "status",
    operands: "[ID]",
    arity: [0, 1],
    summary: "a table of every server: up or down, role, term, leader, log indexes, snapshot, lag, pid, uptime; with ID, that server's status",
    details: ["exits 1 when a server does not answer"],
    options: [...clusterOptions, "json", "watch"],
    group: "cluster",
  },
  {
    name: "leader",
    operands: "",
    arity: [0, 0],
    summary: "which server leads, in which term",
    details: ["exits 1 when no leader is known"],
    options: [...clusterOptions, "json"],
    group: "cluster",
  },
  serverAction("timeout", "server N campaigns for leadership now"),
  serverAction("step-down", "leader N becomes a follower and does not stand for one election timeout"),
  serverAction("shutdown", "server N answers what it has in flight, stops and exits 0"),
  serverAction("transfer", "the leader hands leadership to server N, and this says how long it took"),
  serverAction("snapshot", "server N snapshots its store now and compacts its log, and says up to which entry"),
  {
    name: "members",
    operands: "",
    arity: [0, 0],
    summary: "the configuration in force, as the leader has it: each member's id, client endpoint, and whether it votes or is a learner",
    details: ["asks the servers of the config who leads, then the leader (also one the config does not list); exits 1 when no leader is known"],
    options: [...clusterOptions, "json"],
    group: "cluster",
  },
  {
    name: "add",
    operands: "ID",
    arity: [1, 1],
    summary: "server ID joins the cluster as a learner, and becomes a voter once it has caught up",
    details: [
      "start server ID first, with its own config file listing it and --join (npm run server -- --id ID --config FILE --join);",
      "the leader adds it, and this waits up to 30 s for the leader to promote it: exit 0 once it is a voter,",
      "1 when the change was refused (another change not committed yet, ID already a member) or ID is still a learner",
    ],
    options: [...clusterOptions, "client", "json"],
    group: "cluster",
  },
  {
    name: "remove",
    operands: "ID",
    arity: [1, 1],
    summary: "server ID leaves the cluster (the leader too: it steps down once the change is committed); says which voters are left",
    details: ["exits 0 once the change is committed, 1 when it was refused (another change not committed yet, ID not a member, the last voter)"],
    options: [...clusterOptions, "json"],
    group: "cluster",
  },
  {
    name: "backup",
    operands: "FILE",
    arity: [1, 1],
    summary: "write a consistent backup of the whole store to FILE: a snapshot the leader (or --server N) takes now",
    details: [
      "fetches the snapshot chunk by chunk, checks it, and writes FILE whole or not at all (FILE.tmp first), readable by its owner only;",
      "an existing FILE is never overwritten. zraft restore FILE seeds a new cluster from it",
    ],
    options: [...clusterOptions, "server", "json"],
    group: "cluster",
  },
  {
    name: "restore",
    operands: "FILE",
    arity: [1, 1],
    summary: "seed a new cluster from a backup: every server of the config gets its snapshot as its data",
    details: [
      "checks FILE whole (format, checksum, the store's image), and writes nothing when a server's data directory",
      "(dataDir/server-N) holds anything; then npm start -- --config FILE starts the restored cluster",
    ],
    options: ["config"],
    group: "cluster",
  },
  {
    name: "keygen",
    operands: "",
    arity: [0, 0],
    summary: "a new CURVE key pair as JSON, or with --config-out a config with a new cluster key pair",
    details: ["zraft keygen > client-key.json makes a client's key pair; an existing --config-out FILE is never overwritten"],
    options: ["config", "config-out"],
    group: "cluster",
  },
  {
    name: "completion",
    operands: "bash|zsh",
    arity: [1, 1],
    summary: "print a shell completion script",
    details: [
      "bash: add  source <(zraft completion bash)  to ~/.bashrc, or",
      "      zraft completion bash > ~/.local/share/bash-completion/completions/zraft",
      "zsh:  zraft completion zsh > ~/.zfunc/_zraft, with  fpath=(~/.zfunc $fpath)  before compinit in ~/.zshrc",
    ],
    options: [],
    group: "shell",
  },
];

/** The interactive client, which runs when no command is given, takes these. */
export const interactiveOptions: readonly OptionName[] = clusterOptions;

export function commandDoc(name: string): CommandDoc | undefined {
  return commandDocs.find((doc) => doc.name === name);
}
