/** The numbers of the server's log lines, without ICU (src/server/log-numbers.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { entries, groupedDigits } from "../../src/server/log-numbers.ts";

test("counts are grouped in threes with commas, as en-US writes them", () => {
  for (const count of [0, 7, 999, 1000, 1204, 65_536, 999_999, 1_000_000, 10_148_069, Number.MAX_SAFE_INTEGER, -1234]) {
    assert.equal(groupedDigits(count), count.toLocaleString("en-US"), String(count));
  }
  assert.equal(entries(1), "1 entry");
  assert.equal(entries(1204), "1,204 entries");
});
