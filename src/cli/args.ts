import { ConfigError, loadClusterConfig, type ClusterConfig } from "../config/cluster-config.ts";

/**
 * Command-line parsing shared by the client, the forwarder, the launcher and
 * (if it likes) the server. Options are GNU-style long options only
 * (`--config F` or `--config=F`, plus `-h`), so that a value such as `-5`
 * typed after a command is read as a value, not as an option. `--` ends the
 * options.
 */

/** A command line that cannot be understood. Exit code 2, with usage text. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
}

/** Which long options a program accepts (names without the leading `--`). */
export interface OptionSpec {
  /** Options that take no value, e.g. `json`. */
  readonly flags: readonly string[];
  /** Options that take one value, e.g. `config`. */
  readonly values: readonly string[];
}

export interface ParsedArgs {
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
  /** Everything that is not an option, in order. */
  readonly positionals: readonly string[];
}

/**
 * Splits `argv` (without the node and script paths) into options and
 * positionals. Throws UsageError on an unknown option, a missing value or an
 * option given twice.
 */
export function parseCommandLine(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const positionals: string[] = [];
  const seen = (name: string): boolean => flags.has(name) || values.has(name);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.add("help");
      continue;
    }
    if (!arg.startsWith("--") || arg.length === 2) {
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf("=");
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    if (seen(name)) throw new UsageError(`option --${name} given twice`);
    if (spec.flags.includes(name)) {
      if (equals !== -1) throw new UsageError(`option --${name} takes no value`);
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const value = equals === -1 ? argv[++i] : arg.slice(equals + 1);
      if (value === undefined || value === "") throw new UsageError(`option --${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { flags, values, positionals };
}

/**
 * Reads a non-negative integer option; `fallback` when absent. Throws
 * UsageError when the text is not such an integer.
 */
export function integerOption(args: ParsedArgs, name: string, fallback: number): number {
  const text = args.values.get(name);
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`option --${name} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

/** `--name N` as integerOption reads it, refused (usage error) outside `[min, max]`. */
export function integerOptionWithin(args: ParsedArgs, name: string, fallback: number, [min, max]: readonly [number, number]): number {
  const value = integerOption(args, name, fallback);
  if (value < min || value > max) throw new UsageError(`--${name} must be from ${min} to ${max}, got ${value}`);
  return value;
}

/**
 * The cluster configuration named by `--config`, else by ZRAFT_CONFIG, else
 * the built-in default. Throws ConfigError (exit code 2) on a bad file.
 */
export function configFromArgs(args: ParsedArgs): ClusterConfig {
  return loadClusterConfig(args.values.get("config") ?? process.env.ZRAFT_CONFIG);
}

/**
 * Reports a bad command line or configuration the way every zraft program
 * does: one line naming the program (and the usage text after a usage
 * error) on stderr. Returns the exit code, or undefined when `error` is
 * neither, for the caller to handle.
 */
export function reportCommandLineError(program: string, error: unknown, usage: string, stderr: { write(text: string): unknown } = process.stderr): number | undefined {
  if (error instanceof UsageError) {
    stderr.write(`${program}: ${error.message}\n${usage}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    stderr.write(`${program}: ${error.message}\n`);
    return error.exitCode;
  }
  return undefined;
}
