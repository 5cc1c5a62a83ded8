/**
 * The members' client endpoints in a configuration's context
 * (src/config/member-endpoints.ts): written in id order and read back; a
 * context from the log read defensively, keeping only valid ids with valid
 * endpoints; the config file's endpoints overridden by the context's; and
 * the seed membership of a config file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultClusterConfig } from "../../src/config/cluster-config.ts";
import { isEndpoint } from "../../src/config/endpoint.ts";
import { decodeMemberEndpoints, encodeMemberEndpoints, memberEndpoints, seedMembership } from "../../src/config/member-endpoints.ts";

test("endpoints are written in id order and read back", () => {
  const endpoints = new Map([
    [12, "tcp://10.0.0.12:5000"],
    [3, "ipc:///run/zraft/3"],
  ]);
  const context = encodeMemberEndpoints(endpoints);
  assert.equal(context, '{"3":"ipc:///run/zraft/3","12":"tcp://10.0.0.12:5000"}');
  assert.deepEqual(decodeMemberEndpoints(context), endpoints);
});

test("a context keeps only server ids with valid endpoints; anything else names none", () => {
  for (const garbage of ["", "not json", "null", "[]", '"text"', "17", "{"]) assert.deepEqual(decodeMemberEndpoints(garbage), new Map(), garbage);
  const context = JSON.stringify({
    "1": "tcp://127.0.0.1:5000",
    "0": "tcp://127.0.0.1:5001",
    "-2": "tcp://127.0.0.1:5002",
    "01": "tcp://127.0.0.1:5003",
    "1.5": "tcp://127.0.0.1:5004",
    "9999999999999999": "tcp://127.0.0.1:5005",
    __proto__: "tcp://127.0.0.1:5006",
    "4": "http://example.com",
    "5": 5000,
    "6": `tcp://127.0.0.1:${"9".repeat(300)}`,
    "7": { client: "tcp://127.0.0.1:5007" },
    "8": "tcp://127.0.0.1:5008",
  });
  assert.deepEqual(decodeMemberEndpoints(context), new Map([[1, "tcp://127.0.0.1:5000"], [8, "tcp://127.0.0.1:5008"]]));
});

test("the context's endpoints take the place of the config file's; the seed is the config's servers, all voters", () => {
  const config = defaultClusterConfig();
  const endpoints = memberEndpoints(config, encodeMemberEndpoints(new Map([[2, "tcp://10.0.0.2:5000"], [6, "tcp://10.0.0.6:5000"]])));
  assert.equal(endpoints.get(1), "tcp://127.0.0.1:5000");
  assert.equal(endpoints.get(2), "tcp://10.0.0.2:5000");
  assert.equal(endpoints.get(6), "tcp://10.0.0.6:5000");
  const seed = seedMembership(config);
  assert.deepEqual(seed.voters, [1, 2, 3, 4, 5]);
  assert.deepEqual(seed.learners, []);
  assert.deepEqual(decodeMemberEndpoints(seed.context), new Map(config.servers.map((server) => [server.id, server.client])));
});

test("an endpoint is a ZeroMQ tcp, ipc or inproc endpoint of at most 256 characters", () => {
  for (const good of ["tcp://127.0.0.1:5000", "tcp://host.example:1", "ipc:///tmp/zraft", "inproc://x"]) assert.ok(isEndpoint(good), good);
  for (const bad of ["", "tcp://127.0.0.1", "tcp://a b:5", "udp://1.2.3.4:5", `ipc:///${"x".repeat(256)}`, 5000, null]) assert.ok(!isEndpoint(bad), String(bad));
});
