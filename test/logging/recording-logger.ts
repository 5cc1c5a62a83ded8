import type { Logger } from "../../src/base/logger.ts";

export interface LogRecord {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

/** A Logger that keeps what it is given, so that a test can check what was logged. */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];

  debug(message: string, fields?: Record<string, unknown>): void {
    this.records.push({ level: "debug", message, fields });
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.records.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.records.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.records.push({ level: "error", message, fields });
  }

  /** Whether a record at `level` contains `text`. */
  has(level: LogRecord["level"], text: string): boolean {
    return this.records.some((record) => record.level === level && record.message.includes(text));
  }
}
