/**
 * `npm run client -- [--config F] [--key K] ...`: with a command (put, get,
 * delete, list, cas, status) runs it once (cli.ts); without one starts the
 * interactive client (interactive.ts). With a CURVE cluster, `--key K` (or
 * ZRAFT_CLIENT_KEY) names the client's key pair (client-key.ts).
 */
import { configFromArgs, parseCommandLine, reportCommandLineError, type ParsedArgs } from "../src/cli/args.ts";
import { clientOptions, clientUsage, runCommandLine } from "./cli.ts";
import { clientCurveKeys } from "./client-key.ts";
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
  let curve;
  try {
    config = configFromArgs(args);
    curve = clientCurveKeys(args, config);
  } catch (error) {
    const exitCode = reportCommandLineError("zraft", error, clientUsage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  if (args.positionals.length === 0) return runInteractive({ config, ...(curve === undefined ? {} : { curve }) });
  return runCommandLine(args, config, { stdout: process.stdout, stderr: process.stderr }, curve);
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
