/**
 * `npm run client -- [--config F] ...`: with a command (put, get, delete,
 * list, cas, status) runs it once (cli.ts); without one starts the
 * interactive client (interactive.ts).
 */
import { configFromArgs, parseCommandLine, reportCommandLineError, type ParsedArgs } from "../src/cli/args.ts";
import { clientOptions, clientUsage, runCommandLine } from "./cli.ts";
import { runInteractive } from "./interactive.ts";

async function main(argv: readonly string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv, clientOptions);
  } catch (error) {
    const exitCode = reportCommandLineError("zraft", error, clientUsage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  if (args.flags.has("help")) {
    process.stdout.write(`${clientUsage}\n`);
    return 0;
  }
  let config;
  try {
    config = configFromArgs(args);
  } catch (error) {
    const exitCode = reportCommandLineError("zraft", error, clientUsage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  if (args.positionals.length === 0) return runInteractive({ config });
  return runCommandLine(args, config, { stdout: process.stdout, stderr: process.stderr });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`zraft: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
