/**
 * The Raft core's public face: code outside src/raft imports the core only
 * through this file (test/raft/core-boundary.test.ts holds every importer to
 * it), so the core's insides can change without touching its users.
 */
export { type RaftConfig, raftConfigDefaults, validateRaftConfig } from "./config.ts";
export { describeMessage } from "./describe.ts";
export { type LogStorage, type SnapshotChunk, takeWithin } from "./log-storage.ts";
export { RaftNode, type RaftNodeOptions } from "./node.ts";
export { decodeMembership, encodeMembership, type Membership, type MembershipChange } from "./membership.ts";
export { snapshotImage, snapshotMembership, stateChunksOf } from "./snapshot-image.ts";
export { type Random, SeededRandom } from "./random.ts";
export { appliesBeforeSave, keepsTermAndVote, splitAtSave, type Ready } from "./ready.ts";
export * from "./types.ts";
