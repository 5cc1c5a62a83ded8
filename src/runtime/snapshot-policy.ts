/**
 * When a server snapshots its state machine and compacts its log (Raft
 * dissertation §5.1): every server decides for itself, from what it applied.
 * A snapshot costs a copy of the state and a write of its image, so it is
 * taken only after enough log has piled up to be worth dropping; the margin
 * kept below it lets a follower that is only a little behind catch up from
 * entries, not the whole image (dissertation §5.1.2, as etcd's catch-up entries).
 */
export interface SnapshotPolicy {
  /** Snapshot once this many entries were applied since the last snapshot. */
  readonly entries: number;
  /** ... or once the commands applied since the last snapshot carry this many bytes. */
  readonly logBytes: number;
  /** Entries kept in the log below a snapshot. */
  readonly keepEntries: number;
}

export const snapshotPolicyDefaults: SnapshotPolicy = Object.freeze({
  // At 2,000 puts a second, one snapshot every 5 s: a restart replays at most that much log.
  entries: 10_000,
  logBytes: 64 * 1024 * 1024,
  keepEntries: 5_000,
});

/** Whether a snapshot is due after `applied` entries carrying `appliedBytes` since the last one. */
export function snapshotDue(policy: SnapshotPolicy, applied: number, appliedBytes: number): boolean {
  return applied >= policy.entries || appliedBytes >= policy.logBytes;
}
