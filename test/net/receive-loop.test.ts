/**
 * receiveUntilClosed lets the event loop turn during a flood: a socket with
 * messages queued resolves every receive() at once, and timers (the ticker
 * that sends heartbeats) and the Ready loop must still run (src/net/receive-loop.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { messagesPerTurn, receiveUntilClosed } from "../../src/net/receive-loop.ts";

test("a socket that always has a message queued does not starve timers and immediates", async () => {
  let handled = 0;
  let closed = false;
  const handledWhenTimerRan: number[] = [];
  const handledWhenImmediateRan: number[] = [];
  setTimeout(() => handledWhenTimerRan.push(handled), 0);
  setImmediate(() => handledWhenImmediateRan.push(handled));
  const floodSize = 100 * messagesPerTurn;
  await receiveUntilClosed(
    () => Promise.resolve([Buffer.from("request")]),
    () => closed,
    () => {
      handled++;
      if (handled === floodSize) closed = true;
    },
  );
  assert.equal(handled, floodSize);
  assert.ok(handledWhenImmediateRan[0]! <= messagesPerTurn, `the immediate ran after ${handledWhenImmediateRan[0]} messages`);
  assert.ok(handledWhenTimerRan[0]! <= 2 * messagesPerTurn, `the timer ran after ${handledWhenTimerRan[0]} messages`);
});
