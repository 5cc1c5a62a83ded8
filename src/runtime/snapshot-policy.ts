/**
 * When a server snapshots its state machine and compacts its log (Raft
 * dissertation §5.1): every server decides for itself, from what it applied.
 * A snapshot costs a copy of the state and a write of its image, so it is
 * taken only after enough log has piled up to be worth dropping; the margin
 * kept below it lets a follower that is only a little behind catch up from
 * entries, not the whole image (dissertation §5.1.2, as etcd's catch-up entries).
 */
export interface SnapshotPolicy {
  /** Snapshot every this many entries applied, each server at its own points (snapshotPhase). */
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

/** The fractional part of the golden ratio: its multiples modulo 1 spread out evenly whatever their count. */
const goldenFraction = (Math.sqrt(5) - 1) / 2;

/**
 * Where in each period of `policy.entries` server `id` snapshots. Every
 * server applies the same entries, so with one phase they would all snapshot
 * at the same index, at the same moment: under a large state every server
 * pauses for the copy and the write together, and the leader finds no
 * majority until they are done. Phases spread by the golden ratio keep any
 * set of ids apart (ids 1 to 5: 0.62, 0.24, 0.85, 0.47 and 0.09 of a
 * period) without a server knowing the others.
 */
export function snapshotPhase(policy: SnapshotPolicy, id: number): number {
  return Math.floor(((id * goldenFraction) % 1) * policy.entries);
}

/**
 * Whether a snapshot is due: the applied index passed one of this server's
 * snapshot points (every `policy.entries` from `phase`) since the last
 * snapshot, so a restart never replays more than `policy.entries` of log;
 * or the commands applied since carry `appliedBytes` ≥ `policy.logBytes`.
 */
export function snapshotDue(policy: SnapshotPolicy, phase: number, lastSnapshotIndex: number, appliedIndex: number, appliedBytes: number): boolean {
  const period = (index: number): number => Math.floor((index - phase) / policy.entries);
  return period(appliedIndex) > period(lastSnapshotIndex) || appliedBytes >= policy.logBytes;
}
