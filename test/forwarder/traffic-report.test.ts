/**
 * What the forwarder says about its traffic (forwarder/traffic-report.ts):
 * at info only changes (a server joins or leaves, traffic stops or starts
 * again), the rate at debug, nothing at all while an idle cluster's
 * heartbeats flow as before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RelayCounters } from "../../forwarder/message-relay.ts";
import { TrafficReport } from "../../forwarder/traffic-report.ts";

const counters = (messages: number): RelayCounters => ({ messages, bytes: messages * 100, subscriptionChanges: 0, dropped: 0, delayed: 0 });

test("steady traffic is reported at debug only, every rate interval", () => {
  const report = new TrafficReport(0, counters(0));
  const lines = [];
  for (let second = 1; second <= 60; second++) lines.push(...report.next(second * 1000, counters(second * 100), new Set([1, 2, 3])));
  const info = lines.filter((line) => line.level === "info").map((line) => line.text);
  assert.deepEqual(info, ["servers 1, 2, 3 joined: 3 on the bus (1, 2, 3)"]);
  const debug = lines.filter((line) => line.level === "debug").map((line) => line.text);
  assert.equal(debug.length, 12);
  assert.equal(debug[1], "relayed 500 messages in 5 s (100.0/s, 9.8 KiB/s); 1000 in all");
});

test("a server leaving, traffic stopping and traffic resuming are each one info line", () => {
  const report = new TrafficReport(0, counters(0));
  assert.deepEqual(report.next(1000, counters(0), new Set()), [], "nothing before the first traffic");
  report.next(5000, counters(50), new Set([1, 2]));
  assert.deepEqual(report.next(6000, counters(60), new Set([1])), [{ level: "info", text: "server 2 left: 1 on the bus (1)" }]);
  assert.equal(report.next(10_000, counters(60), new Set([1]))[0]?.level, "debug", "the last messages, at debug");
  assert.deepEqual(report.next(15_000, counters(60), new Set([1])), [{ level: "info", text: "no messages for 5 s (60 relayed in all)" }]);
  assert.deepEqual(report.next(20_000, counters(60), new Set([1])), [], "said once");
  const resumed = report.next(25_000, counters(70), new Set([1]));
  assert.deepEqual(resumed[0], { level: "info", text: "messages again, after 15 s without" });
  assert.equal(resumed[1]?.level, "debug");
});
