/**
 * The `zraft` command (docs/protocol.md §1): reads the command line, checks
 * it against the tables of commands.ts and options.ts, and runs a command
 * once (cli.ts for data, cluster-commands.ts for the cluster,
 * ctl-restore.ts, completion.ts), or the interactive client when no
 * command is given.
 * `zraft ctl COMMAND` (what `npm run ctl --` runs) is `zraft COMMAND`
 * with messages that start "zraft ctl:", and no interactive client.
 *
 * Every usage error exits 2 with one line saying what is wrong and one
 * usage line; a bad config or key file exits 2 with one line.
 */
import { UsageError, configFromArgs, parseCommandLine, reportCommandLineError, type ParsedArgs } from "../src/cli/args.ts";
import { CurveUnavailableError } from "../src/net/curve-security.ts";
import { runDataCommand } from "./cli.ts";
import { clientCurveKeys } from "./client-key.ts";
import { keygen, runClusterCommand } from "./cluster-commands.ts";
import type { CommandIo } from "./command-io.ts";
import { commandDoc, commandDocs, interactiveOptions, type CommandDoc } from "./commands.ts";
import { completionScript } from "./completion.ts";
import { commandHelp, interactiveUsage, mainHelp, usageLine } from "./help.ts";
import { zraftOptionSpec, type OptionName } from "./options.ts";

/** The word that makes `zraft` the controller, for `npm run ctl --`. */
const controllerWord = "ctl";

/** Refuses any option given that `allowed` does not hold (--help aside). */
function checkOptions(args: ParsedArgs, allowed: readonly OptionName[], owner: string): void {
  for (const name of [...args.flags, ...args.values.keys()]) {
    if (name !== "help" && !(allowed as readonly string[]).includes(name)) throw new UsageError(`option --${name} does not go with ${owner}`);
  }
}

function checkArity(doc: CommandDoc, operands: readonly string[]): void {
  const [min, max] = doc.arity;
  if (operands.length >= min && operands.length <= max) return;
  const wanted = min === max ? `${min} operand${min === 1 ? "" : "s"}` : `${min} to ${max} operands`;
  throw new UsageError(`${doc.name} takes ${wanted} (${doc.operands === "" ? "none" : doc.operands}), got ${operands.length}`);
}

/** Runs a command whose name and options have been checked. */
async function runCommand(doc: CommandDoc, operands: readonly string[], args: ParsedArgs, io: CommandIo): Promise<number> {
  if (doc.name === "completion") {
    io.stdout.write(completionScript(operands[0] as string));
    return 0;
  }
  if (doc.name === "keygen") return keygen(args, io);
  const config = configFromArgs(args);
  // It talks to no server, so it needs no client key; loaded only when it runs, since it brings LMDB.
  if (doc.name === "restore") return (await import("./ctl-restore.ts")).runRestore(operands[0] as string, config, args.values.get("config") ?? (process.env.ZRAFT_CONFIG || undefined), io);
  const curve = clientCurveKeys(args, config);
  const invocation = { name: doc.name, operands, args, config, curve, io };
  return doc.group === "data" ? runDataCommand(invocation) : runClusterCommand(invocation);
}

/** The interactive client, loaded only when it runs: its prompt library takes a while to load. */
async function runInteractiveClient(args: ParsedArgs): Promise<number> {
  const config = configFromArgs(args);
  const curve = clientCurveKeys(args, config);
  const { runInteractive } = await import("./interactive.ts");
  return runInteractive({ config, ...(curve === undefined ? {} : { curve }) });
}

/**
 * Runs `zraft` with `argv` (without the node and script paths) and returns
 * the exit code.
 */
export async function runZraft(argv: readonly string[], io: Omit<CommandIo, "program">): Promise<number> {
  const asController = argv[0] === controllerWord;
  const context: CommandIo = { ...io, program: asController ? `zraft ${controllerWord}` : "zraft" };
  let usage = usageLine(undefined);
  try {
    const args = parseCommandLine(asController ? argv.slice(1) : argv, zraftOptionSpec);
    const [name, ...operands] = args.positionals;
    if (name === undefined) {
      if (args.flags.has("help")) {
        io.stdout.write(`${mainHelp()}\n`);
        return 0;
      }
      if (asController) throw new UsageError("no command given");
      usage = interactiveUsage();
      checkOptions(args, interactiveOptions, "the interactive client (it runs when no command is given)");
      return await runInteractiveClient(args);
    }
    const doc = commandDoc(name);
    if (doc === undefined) throw new UsageError(`unknown command "${name}"; the commands are ${commandDocs.map((known) => known.name).join(", ")}`);
    usage = usageLine(doc);
    if (args.flags.has("help")) {
      io.stdout.write(`${commandHelp(doc)}\n`);
      return 0;
    }
    checkOptions(args, doc.options, doc.name);
    checkArity(doc, operands);
    return await runCommand(doc, operands, args, context);
  } catch (error) {
    const exitCode = reportCommandLineError(context.program, error, usage, io.stderr);
    if (exitCode !== undefined) return exitCode;
    if (error instanceof CurveUnavailableError) {
      io.stderr.write(`${context.program}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

/** Runs `zraft` as this process, with `argv`, and sets the process's exit code. */
export function runZraftProcess(argv: readonly string[]): void {
  // A reader that stops early (zraft list | head) is no failure: stop quietly, as a program that SIGPIPE ends would.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? 0);
  });
  runZraft(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`zraft: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
