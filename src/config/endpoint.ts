/**
 * What a client endpoint may be (docs/protocol.md §2): a ZeroMQ endpoint a
 * server binds and clients connect to. One check for the config file, for a
 * server added by `zraft add` (docs/protocol.md §4) and for the endpoints a
 * configuration entry carries (member-endpoints.ts), which all reach ZeroMQ.
 */

const endpointPattern = /^(tcp:\/\/[^\s:]+:\d{1,5}|ipc:\/\/\S+|inproc:\/\/\S+)$/;

/** Longer than any real endpoint: one sent by a client, or carried in the log, stays small. */
export const endpointLengthMax = 256;

export function isEndpoint(value: unknown): value is string {
  return typeof value === "string" && value.length <= endpointLengthMax && endpointPattern.test(value);
}

export const endpointRule = `a ZeroMQ endpoint such as "tcp://127.0.0.1:5000", of at most ${endpointLengthMax} characters`;
