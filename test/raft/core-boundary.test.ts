/**
 * The core stays I/O-free (docs/architecture.md §2): nothing under src/raft
 * may reach sockets, disks, clocks or ambient randomness. Determinism of the
 * simulator depends on it. (That the core is reached only through its index,
 * and imports only src/base, is held by test/architecture/layers.test.ts.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";

const coreDir = join(import.meta.dirname, "../../src/raft");
const forbidden: readonly [RegExp, string][] = [
  [/from\s+["']node:/, "a node: module"],
  [/from\s+["'](zeromq|lmdb|winston|msgpackr)["']/, "an I/O library"],
  [/\bDate\.now\b|\bnew Date\b|\bperformance\.now\b/, "the wall clock"],
  [/\bMath\.random\b/, "ambient randomness"],
  [/\bsetTimeout\b|\bsetInterval\b|\bprocess\./, "timers or the process"],
];

test("src/raft imports no I/O, clock or ambient randomness", () => {
  const files = readdirSync(coreDir).filter((name) => name.endsWith(".ts"));
  assert.ok(files.length > 5, "core files found");
  for (const file of files) {
    const source = readFileSync(join(coreDir, file), "utf8");
    for (const [pattern, what] of forbidden) {
      assert.doesNotMatch(source, pattern, `src/raft/${file} uses ${what}`);
    }
  }
});
