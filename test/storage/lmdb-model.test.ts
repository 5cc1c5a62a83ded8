/**
 * LmdbStorage and WalStorage (with a log file small enough to start over
 * every few bursts, and checkpoints every few saves) against MemoryStorage
 * as their model, on seeded random runs of
 * writes: appends small and large (so records fill up and seal), truncations
 * into the middle of records and of earlier saves, hard states, snapshots
 * taken at committed entries, compactions up to them (into the middle of
 * records), snapshots received from a leader, several writes queued without
 * waiting (a truncating one or a snapshot's among them makes the later ones
 * wait for it), remaps, and close and reopen. After every burst both must
 * hold the same hard state, log, log start and snapshot, read back the same
 * log through LogStorage, and refuse the same writes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AssertionError } from "../../src/base/assert.ts";
import type { Entry, HardState, LogIndex, LogStorage, ReceivedSnapshot, SnapshotMeta, Term } from "../../src/raft/index.ts";
import { SeededRandom } from "../../src/raft/index.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import type { RaftStorage } from "../../src/storage/storage.ts";
import { WalStorage, walLimitsDefaults } from "../../src/storage/wal-storage.ts";

type Storage = LmdbStorage | WalStorage;

interface Save {
  readonly kind: "save";
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot?: ReceivedSnapshot;
}

interface SnapshotWrite {
  readonly kind: "saveSnapshot";
  readonly snapshot: ReceivedSnapshot;
}

interface Compaction {
  readonly kind: "compact";
  readonly through: LogIndex;
}

type Write = Save | SnapshotWrite | Compaction;

/** Entries `from` onwards after an entry of `previousTerm`, now and then of a newer term. */
function randomEntries(random: SeededRandom, from: LogIndex, previousTerm: Term, serial: number): Entry[] {
  const length = random.next() < 0.2 ? random.intBetween(20, 120) : random.intBetween(0, 4);
  let term = Math.max(previousTerm, 1);
  const entries: Entry[] = [];
  for (let i = 0; i < length; i++) {
    if (random.next() < 0.05) term += 1;
    const size = random.next() < 0.1 ? random.intBetween(300, 3000) : random.intBetween(0, 80);
    entries.push({ index: from + i, term, type: size === 0 ? "noop" : "command", data: new Uint8Array(size).fill((serial + i) % 256) });
  }
  return entries;
}

/** A hard state for a log ending at `lastIndex`/`lastTerm` after `hardState`, or null (keep it) half the time. */
function randomHardState(random: SeededRandom, hardState: HardState, lastIndex: LogIndex, lastTerm: Term): HardState | null {
  if (random.next() >= 0.5 && lastTerm <= hardState.currentTerm) return null;
  return {
    currentTerm: Math.max(hardState.currentTerm, lastTerm) + (random.next() < 0.1 ? 1 : 0),
    votedFor: random.next() < 0.5 ? null : random.intBetween(1, 5),
    commitIndex: Math.min(lastIndex, hardState.commitIndex + random.intBetween(0, 10)),
  };
}

/** A snapshot of 1 to 3 chunks, some past a page (LMDB's overflow pages), now and then none (which both must refuse). */
function randomSnapshot(random: SeededRandom, meta: SnapshotMeta, serial: number): ReceivedSnapshot {
  const count = random.next() < 0.05 ? 0 : random.intBetween(1, 3);
  const chunks = Array.from({ length: count }, (_, n) => new Uint8Array(random.next() < 0.3 ? random.intBetween(5000, 40_000) : random.intBetween(1, 200)).fill((serial + n) % 256));
  return { meta, chunks };
}

/** A save that is valid against `model` most of the time, and now and then one that is not. */
function randomSave(random: SeededRandom, model: MemoryStorage, serial: number): Save {
  const { hardState, entries: log, logStart: start } = model.loadSync();
  const last = start.index + log.length;
  const commit = hardState.commitIndex;
  // Now and then an invalid save: a gap after the end, which both must refuse, writing nothing.
  if (random.next() < 0.03) return { kind: "save", hardState: null, entries: [{ index: last + 2, term: 1, type: "noop", data: new Uint8Array(0) }] };
  // Mostly appends; a truncation keeps at least the committed prefix (a leader never overwrites it).
  const from = random.next() < 0.7 ? last + 1 : commit + 1 + random.intBetween(0, Math.max(0, last - commit));
  // A repair comes from a newer leader.
  const previousTerm = from <= last ? Math.max(model.term(from - 1), hardState.currentTerm) : model.term(from - 1);
  const entries = randomEntries(random, from, previousTerm, serial);
  const lastIndex = entries.length === 0 ? last : from - 1 + entries.length;
  return { kind: "save", hardState: randomHardState(random, hardState, lastIndex, entries.at(-1)?.term ?? 0), entries };
}

/**
 * A snapshot received from a newer leader, at or after this server's commit
 * index, with entries after it; the hard state commits at least through it.
 */
function randomInstall(random: SeededRandom, model: MemoryStorage, serial: number): Save {
  const { hardState, entries: log, logStart: start } = model.loadSync();
  const last = start.index + log.length;
  const term = hardState.currentTerm + 1;
  const meta = { index: random.intBetween(Math.max(hardState.commitIndex, 1), last + 30), term };
  const entries = randomEntries(random, meta.index + 1, term, serial);
  const commitIndex = meta.index + random.intBetween(0, entries.length);
  return { kind: "save", hardState: { currentTerm: term, votedFor: null, commitIndex }, entries, snapshot: randomSnapshot(random, meta, serial) };
}

/**
 * A snapshot of the committed log (now and then one past the end, which both
 * must refuse), or a compaction up to the stored snapshot (now and then past
 * it, likewise).
 */
function randomCompaction(random: SeededRandom, model: MemoryStorage, serial: number): Write {
  const { hardState, entries: log, logStart: start, snapshot } = model.loadSync();
  const last = start.index + log.length;
  if (random.next() < 0.5) {
    const index = random.next() < 0.05 ? last + 1 : random.intBetween(Math.max(start.index, 1), hardState.commitIndex);
    if (index >= 1) {
      const meta = { index, term: index > last ? 1 : model.term(index) };
      return { kind: "saveSnapshot", snapshot: randomSnapshot(random, meta, serial) };
    }
  }
  return { kind: "compact", through: random.next() < 0.05 ? snapshot.index + 1 : random.intBetween(start.index, snapshot.index) };
}

function randomWrite(random: SeededRandom, model: MemoryStorage, serial: number): Write {
  const roll = random.next();
  if (roll < 0.03) return randomInstall(random, model, serial);
  if (roll < 0.15) return randomCompaction(random, model, serial);
  return randomSave(random, model, serial);
}

function writeToModel(model: MemoryStorage, write: Write): void {
  if (write.kind === "compact") model.compactSync(write.through);
  else if (write.kind === "saveSnapshot") model.saveSnapshotSync(write.snapshot.meta, write.snapshot.chunks);
  else model.saveSync(write.hardState, write.entries, write.snapshot);
}

function writeTo(storage: Storage, write: Write): Promise<void> {
  if (write.kind === "compact") return storage.compact(write.through);
  if (write.kind === "saveSnapshot") return storage.saveSnapshot(write.snapshot.meta, write.snapshot.chunks);
  return storage.save(write.hardState, write.entries, write.snapshot);
}

/** What a storage holds, in a form that compares quickly and prints readably. */
async function contents(storage: RaftStorage): Promise<unknown> {
  const { hardState, entries, logStart, snapshot } = await storage.load();
  const stored = storage.readSnapshot();
  return {
    hardState,
    logStart,
    snapshot,
    chunks: stored === null ? null : [...stored.chunks()].map((chunk) => Buffer.from(chunk).toString("hex")),
    log: entries.map(({ index, term, type, data }) => [index, term, type, Buffer.from(data).toString("hex")]),
  };
}

/** The log as the core reads it (LogStorage), before load() settles anything. */
function logRead(storage: LogStorage, model: MemoryStorage): unknown {
  const { logStart, entries } = model.loadSync();
  const last = entries.at(-1)?.index ?? logStart.index;
  const read = last === logStart.index ? [] : storage.entries(logStart.index + 1, last, Number.POSITIVE_INFINITY);
  return read.map(({ index, term }) => [index, term, storage.term(index)]);
}

const implementations: readonly { readonly name: string; readonly open: (dir: string) => Promise<Storage> }[] = [
  { name: "LmdbStorage", open: (dir) => LmdbStorage.open(dir, 1) },
  { name: "WalStorage", open: (dir) => WalStorage.open(dir, 1, { ...walLimitsDefaults, capacityBytes: 16_384, checkpointBytes: 2048 }) },
];

for (const { name, open } of implementations) {
for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`seed ${seed}: ${name} holds what MemoryStorage holds after every burst of saves`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zraft-lmdb-model-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const random = new SeededRandom(seed);
    const model = new MemoryStorage();
    let storage = await open(dir);
    try {
      for (let burst = 0; burst < 60; burst++) {
        const outcomes: Promise<string>[] = [];
        const expected: string[] = [];
        for (let n = random.intBetween(1, 5); n > 0; n--) {
          const write = randomWrite(random, model, burst * 10 + n);
          try {
            writeToModel(model, write);
            expected.push("saved");
          } catch (error) {
            assert.ok(error instanceof AssertionError, String(error));
            expected.push("refused");
          }
          outcomes.push(
            writeTo(storage, write).then(
              () => "saved",
              (error: unknown) => (error instanceof AssertionError ? "refused" : `failed: ${String(error)}`),
            ),
          );
        }
        const roll = random.next();
        if (roll < 0.1) await storage.remap();
        else if (roll < 0.2) {
          await storage.close();
          storage = await open(dir);
        }
        assert.deepEqual(await Promise.all(outcomes), expected, `burst ${burst}: the same writes taken and refused`);
        assert.deepEqual(logRead(storage, model), logRead(model, model), `burst ${burst}: the log as the core reads it`);
        assert.deepEqual(await contents(storage), await contents(model), `burst ${burst}`);
      }
    } finally {
      await storage.close();
    }
  });
}
}
