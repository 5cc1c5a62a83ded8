/**
 * LmdbStorage against MemoryStorage as its model, on seeded random runs of
 * saves: appends small and large (so records fill up and seal), truncations
 * into the middle of records and of earlier saves, hard states, several
 * saves queued without waiting (a truncating one among them makes the later
 * ones wait for it), remaps, and close and reopen. After every burst both
 * must hold the same hard state and log, and refuse the same saves.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AssertionError } from "../../src/base/assert.ts";
import type { Entry, HardState } from "../../src/raft/index.ts";
import { SeededRandom } from "../../src/raft/index.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";

interface Save {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
}

/** A save that is valid against `model` most of the time, and now and then one that is not. */
function randomSave(random: SeededRandom, model: MemoryStorage, serial: number): Save {
  const { hardState, entries: log } = model.loadSync();
  const last = log.length;
  const commit = hardState.commitIndex;
  // Mostly appends; a truncation keeps at least the committed prefix (a leader never overwrites it).
  const from = random.next() < 0.7 ? last + 1 : commit + 1 + random.intBetween(0, Math.max(0, last - commit));
  const previousTerm = from > 1 ? (log[from - 2] as Entry).term : 0;
  const length = random.next() < 0.2 ? random.intBetween(20, 120) : random.intBetween(0, 4);
  let term = Math.max(previousTerm, 1);
  if (from <= last) term = Math.max(term, hardState.currentTerm); // a repair comes from a newer leader
  const entries: Entry[] = [];
  for (let i = 0; i < length; i++) {
    if (random.next() < 0.05) term += 1;
    const size = random.next() < 0.1 ? random.intBetween(300, 3000) : random.intBetween(0, 80);
    entries.push({ index: from + i, term, type: size === 0 ? "noop" : "command", data: new Uint8Array(size).fill((serial + i) % 256) });
  }
  const lastIndex = entries.length === 0 ? last : from - 1 + entries.length;
  const lastTerm = entries.at(-1)?.term ?? 0;
  const newHardState =
    random.next() < 0.5 || lastTerm > hardState.currentTerm
      ? {
          currentTerm: Math.max(hardState.currentTerm, lastTerm) + (random.next() < 0.1 ? 1 : 0),
          votedFor: random.next() < 0.5 ? null : random.intBetween(1, 5),
          commitIndex: Math.min(lastIndex, commit + random.intBetween(0, 10)),
        }
      : null;
  // Now and then an invalid save: a gap after the end, which both must refuse, writing nothing.
  if (random.next() < 0.03) return { hardState: null, entries: [{ index: last + 2, term: 1, type: "noop", data: new Uint8Array(0) }] };
  return { hardState: newHardState, entries };
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`seed ${seed}: LmdbStorage holds what MemoryStorage holds after every burst of saves`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zraft-lmdb-model-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const random = new SeededRandom(seed);
    const model = new MemoryStorage();
    let storage = await LmdbStorage.open(dir, 1);
    try {
      for (let burst = 0; burst < 60; burst++) {
        const outcomes: Promise<string>[] = [];
        const expected: string[] = [];
        for (let n = random.intBetween(1, 5); n > 0; n--) {
          const save = randomSave(random, model, burst * 10 + n);
          try {
            model.saveSync(save.hardState, save.entries);
            expected.push("saved");
          } catch (error) {
            assert.ok(error instanceof AssertionError, String(error));
            expected.push("refused");
          }
          outcomes.push(
            storage.save(save.hardState, save.entries).then(
              () => "saved",
              (error: unknown) => (error instanceof AssertionError ? "refused" : `failed: ${String(error)}`),
            ),
          );
        }
        const roll = random.next();
        if (roll < 0.1) await storage.remap();
        else if (roll < 0.2) {
          await storage.close();
          storage = await LmdbStorage.open(dir, 1);
        }
        assert.deepEqual(await Promise.all(outcomes), expected, `burst ${burst}: the same saves taken and refused`);
        const stored = await storage.load();
        const modelled = model.loadSync();
        assert.deepEqual(stored.hardState, modelled.hardState, `burst ${burst}: hard state`);
        assert.equal(stored.entries.length, modelled.entries.length, `burst ${burst}: log length`);
        assert.deepEqual(
          stored.entries.map(({ index, term, type, data }) => [index, term, type, Buffer.from(data).toString("hex")]),
          modelled.entries.map(({ index, term, type, data }) => [index, term, type, Buffer.from(data).toString("hex")]),
          `burst ${burst}: log`,
        );
      }
    } finally {
      await storage.close();
    }
  });
}
