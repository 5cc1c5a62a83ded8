/**
 * Two quick counts beside the linearizability verdict, each defined so that
 * a correct cluster can never score one, however the run was timed. Every
 * value is written by one write only (values are unique in a run), so a
 * value read names the write that wrote it. Either count also fires when a
 * read returns stale data (the checker then says "not linearizable" as
 * well); the explanation in checker.txt tells the cases apart.
 *
 * An operation "observes" a value when it reads the key: a get's value, a
 * cas's current value (the expectation, when it swapped). Writes are puts,
 * and cas operations that swapped or whose outcome is unknown.
 *
 * LOST. An acknowledged write W of value v is lost when
 *   (a) W is necessarily the last write of its key: every other write of
 *       the key, whatever its outcome, took effect before W was called (its
 *       latest possible effect, below, is before W's call), and
 *   (b) some operation called after W was acknowledged (the final read
 *       included) observed a value other than v.
 * With (a), every linearization puts W last among the key's writes, so
 * after its acknowledgement the key holds v for good: (b) means the write
 * was forgotten (docs/protocol.md §8, "a successful write is durable"), or
 * the read was served from a copy that had not applied it yet.
 *
 * The latest possible effect of a write: its acknowledgement when it was
 * acknowledged; for a write of unknown outcome, the acknowledgement of the
 * next write of the same session, because a write whose seq is below its
 * session's last is never applied (docs/protocol.md §8); with no such
 * write, never bounded (it may take effect at any time: the key is then
 * exempt from this count, and left to the checker).
 *
 * DUPLICATED. A value v counts once when three operations on its key,
 * each called after the one before it returned, observed v, then another
 * value u (not absent), then v again. Only one write wrote v; with
 * linearizable reads, v can be back after u was in place only if that
 * write took effect twice (otherwise, a read went back in time).
 */
import type { OpRecord } from "./history.ts";

export interface LostWrite {
  readonly key: string;
  readonly value: string;
  /** What was observed instead, by the first operation that did. */
  readonly observedInstead: string | null;
}

export interface DuplicatedValue {
  readonly key: string;
  readonly value: string;
  /** The value seen in between. */
  readonly between: string;
}

export interface Anomalies {
  readonly lost: readonly LostWrite[];
  readonly duplicated: readonly DuplicatedValue[];
}

interface Observation {
  readonly value: string | null;
  readonly callMs: number;
  readonly returnMs: number;
}

interface PossibleWrite {
  readonly record: OpRecord;
  readonly value: string;
  readonly acknowledged: boolean;
  readonly latestEffectMs: number;
}

export function findAnomalies(records: readonly OpRecord[]): Anomalies {
  const writes = possibleWrites(records);
  const observations = observationsByKey(records);
  const lost: LostWrite[] = [];
  const duplicated: DuplicatedValue[] = [];
  for (const [key, keyWrites] of groupBy(writes, (write) => write.record.op.key)) {
    lost.push(...lostWrites(key, keyWrites, observations.get(key) ?? []));
  }
  for (const [key, seen] of observations) duplicated.push(...duplicatedValues(key, seen));
  return { lost, duplicated };
}

/** Every write that may have changed a key, with its latest possible effect. */
function possibleWrites(records: readonly OpRecord[]): PossibleWrite[] {
  // A session's acknowledged writes, by seq: whatever went through the log under a higher seq closes the window of a lower one.
  const answeredBySession = groupBy(
    records.filter((record) => record.outcome === "ok" && record.seq !== null),
    (record) => record.session,
  );
  const writes: PossibleWrite[] = [];
  for (const record of records) {
    const op = record.op;
    if (op.kind === "get") continue;
    const swapped = record.output?.kind === "cas" ? record.output.swapped : true;
    if (record.outcome === "ok" && swapped) {
      writes.push({ record, value: op.value, acknowledged: true, latestEffectMs: record.returnMs });
    } else if (record.outcome === "unknown") {
      const later = (answeredBySession.get(record.session) ?? []).filter((other) => (other.seq as number) > (record.seq as number));
      const latestEffectMs = later.reduce((earliest, other) => Math.min(earliest, other.returnMs), Number.POSITIVE_INFINITY);
      writes.push({ record, value: op.value, acknowledged: false, latestEffectMs });
    }
  }
  return writes;
}

function observationsByKey(records: readonly OpRecord[]): Map<string, Observation[]> {
  const observed = records.filter((record) => record.outcome === "ok" && record.observed !== undefined);
  const byKey = groupBy(observed, (record) => record.op.key);
  return new Map([...byKey].map(([key, list]) => [key, list.map((record) => ({ value: record.observed ?? null, callMs: record.callMs, returnMs: record.returnMs }))]));
}

function lostWrites(key: string, writes: readonly PossibleWrite[], observations: readonly Observation[]): LostWrite[] {
  const lost: LostWrite[] = [];
  for (const write of writes) {
    if (!write.acknowledged) continue;
    const necessarilyLast = writes.every((other) => other === write || other.latestEffectMs < write.record.callMs);
    if (!necessarilyLast) continue;
    const contrary = observations
      .filter((seen) => seen.callMs > write.record.returnMs && seen.value !== write.value)
      .sort((a, b) => a.callMs - b.callMs)[0];
    if (contrary !== undefined) lost.push({ key, value: write.value, observedInstead: contrary.value });
  }
  return lost;
}

function duplicatedValues(key: string, observations: readonly Observation[]): DuplicatedValue[] {
  const duplicated: DuplicatedValue[] = [];
  for (const [value, seen] of groupBy(observations, (observation) => observation.value)) {
    if (value === null) continue;
    const firstSeenMs = seen.reduce((earliest, observation) => Math.min(earliest, observation.returnMs), Number.POSITIVE_INFINITY);
    const lastSeenMs = seen.reduce((latest, observation) => Math.max(latest, observation.callMs), Number.NEGATIVE_INFINITY);
    const between = observations.find(
      (observation) => observation.value !== null && observation.value !== value && observation.callMs > firstSeenMs && observation.returnMs < lastSeenMs,
    );
    if (between !== undefined) duplicated.push({ key, value, between: between.value as string });
  }
  return duplicated;
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}
