/**
 * The one error vocabulary of the client protocol (docs/protocol.md §5).
 * Servers answer with these codes; the client library raises them as
 * ZraftError so that callers can branch on `code` rather than on messages.
 */

/** Every failure code a reply may carry, in the order docs/protocol.md §5 lists them. */
export const errorCodes = ["NOT_LEADER", "NO_LEADER", "TIMEOUT", "BAD_REQUEST", "SHUTTING_DOWN", "SESSION_EXPIRED", "COMPACTED"] as const;

export type ErrorCode = (typeof errorCodes)[number];

const errorCodeSet: ReadonlySet<string> = new Set(errorCodes);

/** Whether `value` is one of the protocol's error codes (for checking a decoded reply). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && errorCodeSet.has(value);
}

/**
 * A request that failed with one of the protocol's codes. `message` is the
 * sentence for a person (the server's, when the failure came in a reply);
 * `cause` keeps the underlying error when there is one.
 */
export class ZraftError extends Error {
  override readonly name = "ZraftError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * COMPACTED: a watch asked for changes from before `oldest`, the first
 * index the server's change journal still holds (docs/protocol.md §5).
 */
export class CompactedError extends ZraftError {
  constructor(
    message: string,
    readonly oldest: number,
  ) {
    super("COMPACTED", message);
  }
}
