import { decodeMembership, encodeMembership, type Membership } from "./membership.ts";

/**
 * A snapshot's chunks as stored and sent: the first is the core's, the
 * configuration in force at the snapshot's index (dissertation §5.1: a
 * snapshot keeps "the latest configuration as of lastIncludedIndex", since
 * the log that held it is gone); the state machine's chunks follow.
 */
export function* snapshotImage(membership: Membership, stateChunks: Iterable<Uint8Array>): Generator<Uint8Array> {
  yield encodeMembership(membership);
  yield* stateChunks;
}

/** The state machine's chunks of a snapshot image: all but the first. */
export function* stateChunksOf(chunks: Iterable<Uint8Array>): Generator<Uint8Array> {
  let first = true;
  for (const chunk of chunks) {
    if (!first) yield chunk;
    first = false;
  }
}

/** The configuration a snapshot image holds, or what is wrong with it (images arrive from peers, and from disk). */
export function snapshotMembership(chunks: Iterable<Uint8Array>): Membership | string {
  for (const chunk of chunks) return decodeMembership(chunk);
  return "a snapshot without chunks";
}
