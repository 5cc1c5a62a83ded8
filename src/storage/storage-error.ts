/**
 * Durable state that cannot be trusted: unreadable, corrupt, or belonging to
 * another server. Fatal by design: a server must refuse to start rather than
 * reset or overwrite what it may have promised to its peers (votes, entries).
 */
export class StorageError extends Error {
  override readonly name: string = "StorageError";

  /**
   * @param path the data directory (or file) at fault
   * @param problem what is wrong, as a short phrase
   */
  constructor(
    readonly path: string,
    readonly problem: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`${path}: ${problem}`, options);
  }
}

/**
 * A write of durable state failed (a full or failing disk): the server must
 * stop at once, since it can no longer keep the promise that what it
 * acknowledges is on disk.
 */
export class StorageWriteError extends StorageError {
  override readonly name = "StorageWriteError";
}

/** What an error says, for a StorageError's problem: its message, or the value thrown. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
