/** RunningClock: a server's timers count a freeze of the process as at most a few ticks (src/runtime/running-clock.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RunningClock } from "../../src/runtime/running-clock.ts";

test("the running clock follows its source, and counts a gap longer than its bound as the bound", () => {
  let sourceMs = 1_000;
  const clock = new RunningClock(() => sourceMs, 50);
  assert.equal(clock.nowMs(), 1_000);
  sourceMs += 10;
  assert.equal(clock.nowMs(), 1_010);
  sourceMs += 50;
  assert.equal(clock.nowMs(), 1_060, "a gap of exactly the bound counts in full");
  sourceMs += 400;
  assert.equal(clock.nowMs(), 1_110, "a 400 ms freeze counts as 50 ms");
  sourceMs += 10;
  assert.equal(clock.nowMs(), 1_120, "and the clock goes on from there");
  assert.equal(clock.nowMs(), 1_120);
  sourceMs -= 5;
  assert.equal(clock.nowMs(), 1_120, "a source that steps back moves it not at all");
  sourceMs += 15;
  assert.equal(clock.nowMs(), 1_135, "then it moves as the source moves from its new reading");
});
