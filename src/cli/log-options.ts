import { closeSync, openSync } from "node:fs";
import { resolve } from "node:path";
import { isLogLevel, logLevels, type LogLevel } from "../base/log-levels.ts";
import { UsageError, type ParsedArgs } from "./args.ts";
import type { ProgramOption } from "./program-options.ts";

// For the launcher, whose own lines follow --log-level and which reaches src/base only through here (docs/architecture.md §1).
export { isShownAt, type LogLevel } from "../base/log-levels.ts";

/**
 * `--log-level` and `--log-json`, which every long-running program takes
 * (the server, the forwarder, and the launcher, which passes them on to its
 * children), checked where they enter.
 */
export const logOptions: readonly ProgramOption[] = [
  {
    name: "log-level",
    value: "LEVEL",
    help: `the least severe events shown: ${logLevels.join(", ")} (info: state changes, start and stop; debug: also what is periodic or per request)`,
    fallback: "info",
  },
  {
    name: "log-json",
    value: "FILE",
    help: "also append every event shown to FILE, one JSON object a line",
    fallback: "none",
  },
];

export interface LogSettings {
  readonly level: LogLevel;
  /** An absolute path, so that it means the same file to a child started elsewhere. */
  readonly jsonFile?: string;
}

/**
 * The settings `args` name. Throws UsageError for an unknown level or a
 * JSON file that cannot be opened for appending (it is created if missing).
 */
export function logSettingsFrom(args: ParsedArgs): LogSettings {
  const levelText = args.values.get("log-level") ?? "info";
  if (!isLogLevel(levelText)) throw new UsageError(`--log-level must be one of ${logLevels.join(", ")}, got "${levelText}"`);
  const jsonText = args.values.get("log-json");
  if (jsonText === undefined) return { level: levelText };
  const jsonFile = resolve(jsonText);
  try {
    closeSync(openSync(jsonFile, "a"));
  } catch (error) {
    throw new UsageError(`--log-json: cannot append to ${jsonFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return { level: levelText, jsonFile };
}

/** The same settings as arguments, for a child process. */
export function logArgumentsOf(settings: LogSettings): string[] {
  return ["--log-level", settings.level, ...(settings.jsonFile === undefined ? [] : ["--log-json", settings.jsonFile])];
}
