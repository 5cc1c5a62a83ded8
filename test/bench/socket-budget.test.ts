/**
 * The load generator's budget (src/bench/socket-budget.ts): room in
 * ZeroMQ's context for 1000 clients' sockets (its default of 1023 once
 * stopped the 1000-client step before it measured anything), the
 * open-files limit read from /proc/self/limits, and the one line that
 * refuses a run whose clients would not fit in it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Request } from "zeromq";
import { clientsProblem, descriptorsNeeded, openFilesLimit, reserveClientSockets } from "../../src/bench/socket-budget.ts";

const limitsText = [
  "Limit                     Soft Limit           Hard Limit           Units     ",
  "Max processes             63439                63439                processes ",
  "Max open files            1024                 524288               files     ",
].join("\n");

test("the soft open-files limit is read; unlimited or unreadable is unknown", () => {
  assert.equal(openFilesLimit(limitsText), 1024);
  assert.equal(openFilesLimit(limitsText.replace("1024 ", "unlimited ")), undefined);
  assert.equal(openFilesLimit(""), undefined);
  const own = openFilesLimit();
  assert.ok(own === undefined || (Number.isInteger(own) && own > 0), String(own));
});

test("clients that do not fit the limit are refused in one line that says how to raise it", () => {
  assert.equal(clientsProblem(64, 1024), undefined);
  assert.equal(clientsProblem(1000, undefined), undefined);
  assert.equal(clientsProblem(1000, descriptorsNeeded(1000)), undefined);
  const problem = clientsProblem(1000, 1024);
  assert.ok(problem !== undefined);
  assert.match(problem, new RegExp(`^1000 clients need about ${descriptorsNeeded(1000)} open files and this process may open 1024: .*ulimit -n ${descriptorsNeeded(1000)}`));
  assert.doesNotMatch(problem, /\n/);
});

test("reserved before the first socket, ZeroMQ holds the sockets of 1000 clients", { skip: descriptorsNeeded(1000) > (openFilesLimit() ?? Infinity) ? "the open-files limit is too low" : false }, () => {
  // This file opens no socket before this line: libzmq fixes its limit at the first one.
  reserveClientSockets(1000);
  const sockets: Request[] = [];
  try {
    for (let count = 0; count < 3 * 1000 + 100; count++) sockets.push(new Request());
  } finally {
    for (const socket of sockets) socket.close();
  }
});
