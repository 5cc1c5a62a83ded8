import type { OptionSpec } from "./args.ts";

/**
 * The options of a long-running program (the server, the forwarder, the
 * launcher) as one table, from which both the parser's spec and `--help`
 * are made, so that help always lists every option the parser takes, each
 * with what applies when it is left out.
 */
export interface ProgramOption {
  /** Without the leading `--`. */
  readonly name: string;
  /** What stands for its value in help (FILE, N); absent for a flag. */
  readonly value?: string;
  readonly help: string;
  /** What applies when the option is absent, or "required". */
  readonly fallback: string | "required";
}

/** `--help` itself, which every program takes: listed last, without a default. */
const helpOption: ProgramOption = { name: "help", help: "print this help and exit (also -h)", fallback: "" };

const titleOf = (option: ProgramOption): string => `--${option.name}${option.value === undefined ? "" : ` ${option.value}`}`;

export const configOption: ProgramOption = {
  name: "config",
  value: "FILE",
  help: "the cluster configuration (docs/protocol.md §2)",
  fallback: "$ZRAFT_CONFIG, else the built-in cluster (one forwarder, servers 1 to 5 on tcp://127.0.0.1:5000 to 5004)",
};

/** The parser's spec for `options`, `--help` included. */
export function optionSpecOf(options: readonly ProgramOption[]): OptionSpec {
  const all = [...options, helpOption];
  return {
    flags: all.filter((option) => option.value === undefined).map((option) => option.name),
    values: all.filter((option) => option.value !== undefined).map((option) => option.name),
  };
}

/** The usage line: `usage: npm run server -- --id N [--config FILE] …`, optional options in brackets. */
export function usageLine(command: string, options: readonly ProgramOption[]): string {
  return `usage: ${command} ${options.map((option) => (option.fallback === "required" ? titleOf(option) : `[${titleOf(option)}]`)).join(" ")}`;
}

function defaultLine(option: ProgramOption): string[] {
  if (option === helpOption) return [];
  return [option.fallback === "required" ? "required" : `default: ${option.fallback}`];
}

/** `--help`: the usage line, what the program does, then every option with its default. */
export function helpText(command: string, summary: readonly string[], options: readonly ProgramOption[]): string {
  const all = [...options, helpOption];
  const width = Math.max(...all.map((option) => titleOf(option).length)) + 2;
  const lines = all.flatMap((option) => [`  ${titleOf(option).padEnd(width)}${option.help}`, ...defaultLine(option).map((line) => `  ${"".padEnd(width)}${line}`)]);
  return [usageLine(command, options), "", ...summary, "", "options:", ...lines].join("\n");
}
