/** The Raft core's public API: nothing else under src/raft is imported from outside it. */
export { AssertionError, assert, assertNever } from "./assert.ts";
export { type RaftConfig, raftConfigDefaults, validateRaftConfig } from "./config.ts";
export { describeMessage } from "./describe.ts";
export { nullLogger, type RaftLogger } from "./logger.ts";
export { RaftNode, type RaftNodeOptions } from "./node.ts";
export { type Random, SeededRandom } from "./random.ts";
export { type Ready, isEmptyReady } from "./ready.ts";
export * from "./types.ts";
