import { ZraftError } from "../src/protocol/errors.ts";
import type { CommandIo } from "./command-io.ts";
import { toJsonText } from "./json-text.ts";

/**
 * Reports a request that failed: one line on stderr, `zraft: CODE: message`,
 * and with `json` the error object `{"ok":false,"error":CODE,"message":...}`
 * on stdout, CODE a protocol code, or ERROR for a failure outside the
 * protocol (a server id not in the config, say). `curve`: whether the
 * client used CURVE keys, which changes what a TIMEOUT may mean.
 * @returns the exit code, 1
 */
export function reportRequestFailure(error: unknown, json: boolean, curve: boolean, io: CommandIo): number {
  const code = error instanceof ZraftError ? error.code : "ERROR";
  // docs/protocol.md §10: a server that refuses a client's key does not answer it, so a refusal looks like a timeout.
  const hint = curve && code === "TIMEOUT" ? " (with CURVE, a server that refuses this client's key never answers: is its public key in curve.clients?)" : "";
  const message = (error instanceof Error ? error.message : String(error)) + hint;
  if (json) io.stdout.write(`${toJsonText({ ok: false, error: code, message })}\n`);
  io.stderr.write(`${io.program}: ${code}: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  return 1;
}
