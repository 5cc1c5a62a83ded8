/**
 * How the interactive client reads a typed value (interactive-values.ts)
 * and shows one (value-preview.ts): text, "=" JSON, "@" a file byte-exact
 * (a string when UTF-8, else binary) with clear refusals, and values cut to
 * a width in terminal columns with their size.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ValueInputError, editedValue, typedValue } from "../../client/interactive-values.ts";
import { fitEnd, fitStart, formatSize, valuePreview } from "../../client/value-preview.ts";
import { valueBytesMax } from "../../src/protocol/limits.ts";

test("typedValue: text as typed, JSON after '=', a clear refusal of bad JSON", async () => {
  assert.equal(await typedValue("hello world", "/"), "hello world");
  assert.deepEqual(await typedValue('={"a":[1,2]}', "/"), { a: [1, 2] });
  await assert.rejects(typedValue("={oops", "/"), (error: unknown) => error instanceof ValueInputError && /not valid JSON after "="/.test(error.message));
});

test("typedValue '@FILE': UTF-8 as a string, anything else as binary, byte-exact; quotes and relative names", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-values-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "text.txt"), "naïve\nline two\n");
  const binary = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0a]);
  writeFileSync(join(dir, "my file.bin"), binary);
  assert.equal(await typedValue("@text.txt", dir), "naïve\nline two\n");
  const read = await typedValue("@'my file.bin'", dir);
  assert.ok(Buffer.isBuffer(read) && read.equals(binary));
});

test("typedValue '@FILE' refuses with the reason: no name, missing, a folder, over 1 MiB, over the limit once encoded", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-values-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "huge.bin"), Buffer.alloc(valueBytesMax + 1));
  writeFileSync(join(dir, "edge.txt"), "x".repeat(valueBytesMax - 4));
  writeFileSync(join(dir, "fits.txt"), "x".repeat(valueBytesMax - 5));
  const refused = async (text: string, reason: RegExp): Promise<void> => {
    await assert.rejects(typedValue(text, dir), (error: unknown) => error instanceof ValueInputError && reason.test(error.message));
  };
  await refused("@", /a file name is needed after "@"/);
  await refused("@missing", /cannot read .*missing: ENOENT/);
  await refused(`@${dir}`, /is not a file/);
  await refused("@huge.bin", /holds 1,048,577 bytes; a value is at most 1,048,576 bytes \(1 MiB\)/);
  await refused("@edge.txt", /holds 1,048,572 bytes, which take 1,048,577 bytes of MessagePack as a string: over the limit of 1,048,576 by 1/);
  assert.equal(((await typedValue("@fits.txt", dir)) as string).length, valueBytesMax - 5);
});

test("editedValue drops the one line break an editor adds at the end, and only that one", () => {
  assert.equal(editedValue("a\nb\n"), "a\nb");
  assert.equal(editedValue("a\r\n"), "a");
  assert.equal(editedValue("a\n\n"), "a\n");
});

test("fitStart and fitEnd cut to terminal columns, wide characters counting two", () => {
  assert.equal(fitStart("abcdef", 6), "abcdef");
  assert.equal(fitStart("abcdef", 4), "abc…");
  assert.equal(fitStart("日本語テキスト", 7), "日本語…");
  assert.equal(fitEnd("abcdef", 4), "…def");
  assert.equal(fitEnd("日本語テキスト", 6), "…スト");
});

test("valuePreview: short values whole, long ones cut to the width with their size", () => {
  assert.equal(valuePreview("blue", 40), '"blue"');
  assert.equal(valuePreview({ n: 1 }, 40), '{"n":1}');
  const preview = valuePreview("abc".repeat(44_000), 40);
  assert.equal(preview, '"abcabcabcabcabcabcabcabcabca… (129 KiB)');
  assert.ok(preview.length <= 40);
  assert.match(valuePreview(Buffer.alloc(valueBytesMax - 5), 60), /^\{"\$binary":"AAAA[A]*… \(1\.0 MiB\)$/);
  assert.equal(formatSize(1), "1 byte");
  assert.equal(formatSize(1023), "1023 bytes");
  assert.equal(formatSize(130 * 1024), "130 KiB");
});
