/**
 * The linearizability checker's public face: the chaos run records a
 * history of HistoryEntry and calls checkLinearizable on it.
 */
export type { HistoryEntry, KvOperation, KvOutput } from "./history.ts";
export { partitionByKey } from "./history.ts";
export type { CheckOptions, CheckResult } from "./check.ts";
export { checkLinearizable, DEFAULT_STATES_MAX } from "./check.ts";
export { describeEntry } from "./explain.ts";
