/**
 * The backup file (src/backup/backup-file.ts, docs/architecture.md §8):
 * what encodeBackup writes, decodeBackup reads back whole, and
 * it refuses, with a sentence, every file that is not exactly that: another
 * magic or version, a file cut short at any point, one flipped byte (the
 * checksum), bytes after the last chunk, and a well-formed file whose image
 * is not a store's snapshot.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { BackupFormatError, backupFormatVersion, decodeBackup, encodeBackup, imageCounts, storeChunksOf } from "../../src/backup/backup-file.ts";
import { encodeSnapshotChunks } from "../../src/kv/kv-snapshot.ts";
import { snapshotImage } from "../../src/raft/index.ts";

const source = { meta: { index: 12_345, term: 3 }, createdAt: "2026-12-02T10:00:00.000Z", server: 3 };

/** An image of `keys` pairs, some with large values, so that it spans several chunks. */
function imageChunks(keys: number): Uint8Array[] {
  const entries = Array.from({ length: keys }, (_, n) => [`key/${String(n).padStart(5, "0")}`, Uint8Array.from(pack(n % 7 === 0 ? "v".repeat(200_000) : n))] as const);
  return [...encodeSnapshotChunks({ entries, sessions: [], clockMs: 1_700_000_000_000 })];
}

const fileOf = (parts: readonly Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

function refused(file: Uint8Array, pattern: RegExp): void {
  assert.throws(() => decodeBackup(file), (error: unknown) => error instanceof BackupFormatError && pattern.test(error.message), `expected a refusal matching ${pattern}`);
}

test("a backup reads back with its header, its chunks and what its image holds", () => {
  const chunks = imageChunks(100);
  assert.ok(chunks.length >= 3, "the image spans several chunks");
  const backup = decodeBackup(fileOf(encodeBackup(source, chunks)));
  assert.deepEqual(backup.header, { ...source, chunks: chunks.length, bytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0) });
  assert.deepEqual(backup.chunks.map((chunk) => Buffer.from(chunk)), chunks.map((chunk) => Buffer.from(chunk)));
  assert.equal(backup.keys, 100);
  assert.equal(backup.sessions, 0);
});

test("a server's stored snapshot goes into a backup without its first chunk, the core's configuration", () => {
  const chunks = imageChunks(20);
  const stored = [...snapshotImage({ voters: [1, 2, 3], learners: [4], context: "{}" }, chunks)];
  assert.throws(() => imageCounts(stored, 100), BackupFormatError, "the configuration is no part of the store's image");
  assert.deepEqual(storeChunksOf(stored), chunks);
  assert.equal(imageCounts(storeChunksOf(stored), 100).keys, 20);
});

test("a file cut short anywhere is refused, saying where it ends", () => {
  const file = fileOf(encodeBackup(source, imageChunks(3)));
  for (const length of [0, 5, 12, 13, 17, 20, 40, file.length - 33, file.length - 1]) {
    refused(file.subarray(0, length), /it is cut short: it ends (before|within) /);
  }
  refused(file.subarray(0, 30), /cut short: it ends within its header/);
  refused(file.subarray(0, file.length - 1), /cut short: it ends within chunk \d+ of \d+/);
});

test("one flipped byte in the header map or a chunk fails the checksum; bytes after the last chunk are refused", () => {
  const file = fileOf(encodeBackup(source, imageChunks(3)));
  const flipped = (at: number, mask: number): Uint8Array => {
    const copy = Uint8Array.from(file);
    copy[at] = (copy[at] as number) ^ mask;
    return copy;
  };
  // A digit of createdAt, where any value still decodes: only the checksum can tell.
  refused(flipped(Buffer.from(file).indexOf(source.createdAt) + 3, 0x01), /its checksum does not match its contents: the file is damaged/);
  refused(flipped(file.length - 2, 0x40), /its checksum does not match its contents: the file is damaged/);
  refused(fileOf([file, Uint8Array.of(0)]), /1 bytes follow its last chunk/);
});

test("another magic or format version is refused before anything else is read", () => {
  const file = fileOf(encodeBackup(source, imageChunks(3)));
  const magic = Uint8Array.from(file);
  magic[0] = "Z".charCodeAt(0);
  refused(magic, /not a zraft backup: it does not start with "zraft-backup"/);
  const version = Uint8Array.from(file);
  Buffer.from(version.buffer).writeUInt16BE(backupFormatVersion + 1, 12);
  refused(version, new RegExp(`format version ${backupFormatVersion + 1} is not one this zraft reads \\(it reads version ${backupFormatVersion}\\)`));
  refused(Uint8Array.from(Buffer.from("not a backup at all, just text")), /not a zraft backup/);
});

test("a header or image that is not right is refused even when the checksum matches", () => {
  refused(fileOf(encodeBackup({ ...source, meta: { index: 0, term: 3 } }, imageChunks(1))), /its header's index is 0, not an integer from 1 to/);
  refused(fileOf(encodeBackup({ ...source, createdAt: "yesterday" }, imageChunks(1))), /its header's createdAt is "yesterday", not a time/);
  refused(fileOf(encodeBackup(source, [Uint8Array.from(pack({ values: "nope" }))])), /its image is not a store's snapshot: /);
  refused(fileOf(encodeBackup(source, [])), /its header's chunks is 0, not an integer from 1/);
});
