import { test } from "node:test";
import assert from "node:assert/strict";
import { snapshotDue, snapshotPhase, type SnapshotPolicy } from "../../src/runtime/snapshot-policy.ts";

const policy: SnapshotPolicy = { entries: 10_000, logBytes: 64 * 1024 * 1024, keepEntries: 5_000 };

/** The first applied index after `last` at which a server of `phase` snapshots, applying one entry at a time. */
function nextSnapshotAt(phase: number, last: number, bytesPerEntry = 0): number {
  for (let applied = last + 1; ; applied++) if (snapshotDue(policy, phase, last, applied, (applied - last) * bytesPerEntry)) return applied;
}

test("the five servers of a default cluster snapshot at five points of a period, none within a tenth of a period of another", () => {
  const points = [1, 2, 3, 4, 5].map((id) => nextSnapshotAt(snapshotPhase(policy, id), 20_000) % policy.entries).sort((a, b) => a - b);
  assert.equal(new Set(points).size, 5);
  const gaps = points.map((point, i) => (i + 1 < points.length ? points[i + 1]! : points[0]! + policy.entries) - point);
  assert.ok(Math.min(...gaps) >= policy.entries / 10, `gaps ${gaps.join(", ")}`);
});

test("every server snapshots again within `entries` of its last snapshot, and once a period", () => {
  for (const id of [1, 2, 3, 4, 5, 17, 1000]) {
    const phase = snapshotPhase(policy, id);
    // A last snapshot anywhere: one taken at a snapshot point, or a leader's installed at any index.
    for (const last of [0, 1, phase, phase + 1, 12_345, 40_000 + phase]) {
      const next = nextSnapshotAt(phase, last);
      assert.ok(next - last <= policy.entries, `server ${id} after ${last}: ${next}`);
      assert.equal(nextSnapshotAt(phase, next) - next, policy.entries, `server ${id} after its snapshot at ${next}`);
    }
  }
});

test("a period of one entry snapshots after every entry, whatever the server", () => {
  const everyEntry: SnapshotPolicy = { ...policy, entries: 1 };
  for (const id of [1, 2, 3]) {
    const phase = snapshotPhase(everyEntry, id);
    assert.equal(phase, 0);
    assert.equal(snapshotDue(everyEntry, phase, 7, 7, 0), false);
    assert.equal(snapshotDue(everyEntry, phase, 7, 8, 0), true);
  }
});

test("enough bytes applied make a snapshot due before its point", () => {
  const phase = snapshotPhase(policy, 1);
  const last = phase;
  assert.equal(snapshotDue(policy, phase, last, last + 10, policy.logBytes - 1), false);
  assert.equal(snapshotDue(policy, phase, last, last + 10, policy.logBytes), true);
  assert.equal(nextSnapshotAt(phase, last, policy.logBytes / 100), last + 100);
});
