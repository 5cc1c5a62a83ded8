import { createWriteStream, openSync, type WriteStream } from "node:fs";
import { inspect } from "node:util";
import winston from "winston";
import { logLevels, type LogLevel } from "../base/log-levels.ts";
import type { Logger } from "../base/logger.ts";

/**
 * Server logs: one readable line per event on the console, e.g.
 *
 *   12:00:01.234 info  server 3 elected leader for term 7 with 4 of 5 votes
 *
 * and, with `--log-json FILE`, the same events as JSON lines in FILE for
 * tools. Colour only on a terminal (and never with NO_COLOR set), so that
 * `npm start`'s prefixed output and files stay plain.
 */

/** Winston's numbering: lower is more severe, as in logLevels. */
const levelNumbers = Object.fromEntries(logLevels.map((level, i) => [level, i])) as Record<LogLevel, number>;

export interface LoggerOptions {
  /** Shown on every console line and stored as `server` in JSON lines, e.g. "server 3". */
  readonly serverName: string;
  readonly level: LogLevel;
  /** Also write JSON lines to this file (appended). */
  readonly jsonFile?: string;
  /** Where the readable lines go; default: stdout. */
  readonly console?: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Colour the level on the console; default: the console is a terminal and NO_COLOR is unset. */
  readonly colour?: boolean;
  /** Put the server's name on console lines; off when a launcher already prefixes each line with it. Default true. */
  readonly showName?: boolean;
}

export function createLogger(options: LoggerOptions): winston.Logger {
  const console = options.console ?? process.stdout;
  const colour = options.colour ?? (console.isTTY === true && !process.env.NO_COLOR);
  const transports: winston.transport[] = [
    new winston.transports.Stream({ stream: console, format: winston.format.printf((info) => consoleLine(info, colour, options.showName ?? true)) }),
  ];
  let jsonStream: WriteStream | undefined;
  if (options.jsonFile !== undefined) {
    const file = options.jsonFile;
    jsonStream = openJsonFile(file, (error) => {
      // A failing file (disk full) must not stop the server: say so once on the console, which goes on.
      console.write(`${clockTime(new Date())} error ${options.serverName} writing ${file} failed, its lines are lost: ${String(error)}\n`);
    });
    transports.push(new winston.transports.Stream({ stream: jsonStream, format: winston.format.printf(jsonLine) }));
  }
  const logger = winston.createLogger({
    levels: levelNumbers,
    level: options.level,
    defaultMeta: { server: options.serverName },
    format: stampTime(),
    transports,
    exitOnError: false,
  });
  jsonStreams.set(logger, jsonStream);
  return logger;
}

/** The JSON file behind each logger, for closeLogger(). */
const jsonStreams = new WeakMap<winston.Logger, WriteStream | undefined>();

/**
 * Opens the file for appending, failing at start-up with the reason rather
 * than at the first line; a later failure goes to `onError`, once. (Not
 * winston's File transport: it creates missing directories, and on a write
 * error it stops silently and never finishes.)
 */
function openJsonFile(file: string, onError: (error: unknown) => void): WriteStream {
  let fd: number;
  try {
    fd = openSync(file, "a");
  } catch (error) {
    throw new Error(`cannot write the JSON log file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const stream = createWriteStream(file, { fd, flags: "a" });
  let failed = false;
  stream.on("error", (error) => {
    if (failed) return;
    failed = true;
    onError(error);
  });
  return stream;
}

/**
 * Resolves once every line logged so far has been written, the JSON file
 * included (or that file has failed): call it before the process exits.
 */
export async function closeLogger(logger: winston.Logger): Promise<void> {
  const loggerFinished = new Promise<void>((resolve) => logger.once("finish", () => resolve()));
  logger.end();
  await loggerFinished;
  const stream = jsonStreams.get(logger);
  if (stream === undefined || stream.closed) return;
  const fileClosed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
  stream.end();
  await fileClosed;
}

/**
 * The core's logger on top of winston. Fields whose names winston gives a
 * meaning to (`message`, `level` …) are renamed with a trailing `_` instead
 * of silently changing the line.
 */
export function loggerFrom(logger: winston.Logger): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logger.log(level, message, fields === undefined ? {} : safeFields(fields));
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

const reservedKeys: ReadonlySet<string> = new Set(["level", "message", "server", "time", "timestamp", "splat"]);

function safeFields(fields: Record<string, unknown>): Record<string, unknown> {
  let safe: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (!reservedKeys.has(key)) continue;
    safe ??= { ...fields };
    delete safe[key];
    safe[`${key}_`] = fields[key];
  }
  return safe ?? fields;
}

type Info = winston.Logform.TransformableInfo;

/** A symbol key, so that the time is not taken for a field; both transports show the same instant. */
const timeKey = Symbol("time");

const stampTime = winston.format((info) => {
  (info as Info & { [timeKey]?: Date })[timeKey] = new Date();
  return info;
});

function timeOf(info: Info): Date {
  return (info as Info & { [timeKey]?: Date })[timeKey] ?? new Date();
}

/** The info keys that are not fields: winston's own and ours. */
const lineKeys: ReadonlySet<string> = new Set(["level", "message", "server"]);

function fieldsOf(info: Info): Array<[string, unknown]> {
  return Object.entries(info).filter(([key]) => !lineKeys.has(key));
}

const levelColours: Record<string, string> = { error: "\x1b[31m", warn: "\x1b[33m", info: "\x1b[32m", debug: "\x1b[90m" };
const resetColour = "\x1b[0m";
const levelWidth = Math.max(...logLevels.map((level) => level.length));

function consoleLine(info: Info, colour: boolean, showName: boolean): string {
  const level = String(info.level);
  const paddedLevel = level.padEnd(levelWidth);
  const shownLevel = colour ? `${levelColours[level] ?? ""}${paddedLevel}${resetColour}` : paddedLevel;
  const fields = fieldsOf(info);
  const shownFields =
    fields.length === 0
      ? ""
      : ` {${fields.map(([key, value]) => `${key}: ${inspect(loggable(value), inspectOptions)}`).join(", ")}}`;
  const name = showName ? `${String(info.server)} ` : "";
  return `${clockTime(timeOf(info))} ${shownLevel} ${name}${String(info.message)}${shownFields}`;
}

const inspectOptions = { compact: true, breakLength: Infinity, depth: 3, maxArrayLength: 16, maxStringLength: 200, colors: false };

function jsonLine(info: Info): string {
  const line: Record<string, unknown> = {
    time: timeOf(info).toISOString(),
    level: info.level,
    server: info.server,
    message: info.message,
  };
  for (const [key, value] of fieldsOf(info)) line[key] = value;
  try {
    return JSON.stringify(line, jsonReplacer);
  } catch (error) {
    // A cyclic field must not make logging throw into the code that logged.
    line.fields_ = inspect(Object.fromEntries(fieldsOf(info)), inspectOptions);
    for (const [key] of fieldsOf(info)) delete line[key];
    line.logError_ = String(error);
    return JSON.stringify(line, jsonReplacer);
  }
}

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // `value` has been through toJSON already (a Buffer's would list every byte): look at the original.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array || original instanceof Error) return loggable(original);
  return typeof value === "bigint" ? value.toString() : value;
}

/** Values that print badly (bytes, errors) become short descriptions. */
function loggable(value: unknown): unknown {
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return value;
}

function clockTime(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}
