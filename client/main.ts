/**
 * `npm run client -- [--config F] ...`: with a command (put, get, delete,
 * list, cas, status) runs it once (cli.ts); without one starts the
 * interactive client (interactive.ts).
 */
import { ConfigError } from "../src/config/cluster-config.ts";
import { UsageError, configFromArgs, parseCommandLine, type ParsedArgs } from "../src/cli/args.ts";
import { clientOptions, clientUsage, runCommandLine } from "./cli.ts";
import { runInteractive } from "./interactive.ts";

async function main(argv: readonly string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv, clientOptions);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`zraft: ${error.message}\n${clientUsage}\n`);
    return error.exitCode;
  }
  if (args.flags.has("help")) {
    process.stdout.write(`${clientUsage}\n`);
    return 0;
  }
  let config;
  try {
    config = configFromArgs(args);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`zraft: ${error.message}\n`);
    return error.exitCode;
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
