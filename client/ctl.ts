/**
 * `npm run ctl -- COMMAND`: the controller. This release has one command,
 * `keygen`, which makes CURVE keys (docs/protocol.md §10):
 *
 *   npm run ctl -- keygen                          a key pair as JSON, e.g. a client's key file
 *   npm run ctl -- keygen --config-out FILE        a copy of the config with a new cluster key pair
 *
 * Exit codes: 0 success; 1 when the keys cannot be made or the file cannot
 * be written (it exists already, say); 2 a usage or config error.
 */
import { writeFileSync } from "node:fs";
import { UsageError, configFromArgs, parseCommandLine, reportCommandLineError, type ParsedArgs } from "../src/cli/args.ts";
import { validateClusterConfig, type ClusterConfig } from "../src/config/cluster-config.ts";
import { CurveUnavailableError, generateCurveKeyPair } from "../src/net/curve-security.ts";

const laterCommands = "status, leader, timeout, step-down, shutdown and transfer";

const usage = `usage: npm run ctl -- keygen
         print a new CURVE key pair as JSON { "publicKey", "secretKey" }: a client's key file
         (npm run ctl -- keygen > client-key.json)
       npm run ctl -- keygen --config-out FILE [--config F]
         write a copy of the config (--config F, $ZRAFT_CONFIG, else the built-in cluster) to FILE
         with a new curve key pair for the cluster; an existing FILE is never overwritten
This release has only keygen; ${laterCommands} come in a later release.
exit codes: 0 success, 1 failure, 2 usage or config error`;

/** What `ctl` writes to; the process's streams in `npm run ctl`. */
interface Streams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: NodeJS.WritableStream;
}

/** The config with a fresh `curve` key pair; the `clients` list, if any, is kept (client keys do not depend on the cluster's). */
function withNewClusterKeys(config: ClusterConfig, pair: { readonly publicKey: string; readonly secretKey: string }): ClusterConfig {
  const clients = config.curve?.clients;
  return { ...config, curve: { publicKey: pair.publicKey, secretKey: pair.secretKey, ...(clients === undefined ? {} : { clients }) } };
}

function keygen(args: ParsedArgs, streams: Streams): number {
  if (args.positionals.length > 1) throw new UsageError(`keygen takes no arguments, got "${args.positionals[1]}"`);
  const pair = generateCurveKeyPair();
  const outFile = args.values.get("config-out");
  if (outFile === undefined) {
    if (args.values.has("config")) throw new UsageError("--config goes with --config-out FILE (plain keygen reads no config)");
    streams.stdout.write(`${JSON.stringify({ publicKey: pair.publicKey, secretKey: pair.secretKey }, null, 2)}\n`);
    return 0;
  }
  const config = withNewClusterKeys(configFromArgs(args), pair);
  // The file must load as it is written: check it the way every program will.
  validateClusterConfig(JSON.parse(JSON.stringify(config)), outFile);
  try {
    // "wx": never overwrite (it may hold the only copy of a cluster's keys); 0600: it holds a secret key.
    writeFileSync(outFile, `${JSON.stringify(config, null, 2)}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "EEXIST" ? "it exists already, and is not overwritten (choose another name, or remove it first)" : (code ?? String(error));
    streams.stderr.write(`zraft ctl: cannot write ${outFile}: ${reason}\n`);
    return 1;
  }
  streams.stdout.write(
    [
      `wrote ${outFile}: a copy of the config with a new cluster key pair in its curve section (keep the file private)`,
      `  start the cluster:   npm start -- --config ${outFile}`,
      "  make a client key:   npm run ctl -- keygen > client-key.json",
      `  run a client:        npm run client -- --config ${outFile} --key client-key.json`,
    ].join("\n") + "\n",
  );
  return 0;
}

function runCtl(argv: readonly string[], streams: Streams): number {
  try {
    const args = parseCommandLine(argv, { flags: ["help"], values: ["config", "config-out"] });
    if (args.flags.has("help")) {
      streams.stdout.write(`${usage}\n`);
      return 0;
    }
    const [command] = args.positionals;
    if (command === undefined) throw new UsageError("no command given");
    if (command !== "keygen") throw new UsageError(`unknown command "${command}": this release has only keygen (${laterCommands} come later)`);
    return keygen(args, streams);
  } catch (error) {
    const exitCode = reportCommandLineError("zraft ctl", error, usage, streams.stderr);
    if (exitCode !== undefined) return exitCode;
    if (error instanceof CurveUnavailableError) {
      streams.stderr.write(`zraft ctl: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

process.exitCode = runCtl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
