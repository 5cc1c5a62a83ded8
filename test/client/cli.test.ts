/**
 * Proves the one-shot client's contract (docs/protocol.md §1) against fake
 * servers: human output by default, exactly one JSON object (the reply) with
 * --json, values as strings unless --json-value, big integers printed as
 * exact digits, exit codes 0 (success, absent key included), 1 (failure or a
 * cas that did not swap, one line on stderr) and 2 (usage or config error,
 * with usage text); and that `npm run client`'s entry point wires it up.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommandLine } from "../../src/cli/args.ts";
import { clientOptions, runCommandLine } from "../../client/cli.ts";
import { toJsonText } from "../../client/json-text.ts";
import { runCommand } from "../e2e/harness.ts";
import { FakeCluster, type FakeStore } from "./fake-cluster.ts";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe("the one-shot client", () => {
  let cluster: FakeCluster;
  let store: FakeStore;
  const dir = mkdtempSync(join(tmpdir(), "zraft-cli-"));

  const run = async (...argv: string[]): Promise<Run> => {
    let stdout = "";
    let stderr = "";
    const code = await runCommandLine(parseCommandLine(argv, clientOptions), cluster.config, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    });
    return { code, stdout, stderr };
  };
  const json = (result: Run): Record<string, unknown> => {
    assert.equal(result.stdout.trimEnd().split("\n").length, 1, "exactly one line of JSON");
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  before(async () => {
    cluster = await FakeCluster.start(2);
  });
  beforeEach(() => {
    store = cluster.elect(2);
  });
  after(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("put, get, delete and list print lines for a person", async () => {
    assert.deepEqual(await run("put", "greeting", "hello world"), { code: 0, stdout: "OK (index 1)\n", stderr: "" });
    assert.deepEqual(await run("get", "greeting"), { code: 0, stdout: "hello world\n", stderr: "" });
    assert.deepEqual(await run("get", "nothing"), { code: 0, stdout: "(not found)\n", stderr: "" });
    await run("put", "g2", "-5");
    assert.equal(store.data.get("g2"), "-5", "a value that looks like an option or a number stays a string");
    assert.deepEqual(await run("list", "g"), { code: 0, stdout: 'g2 = "-5"\ngreeting = "hello world"\n', stderr: "" });
    assert.deepEqual(await run("list", "g", "--limit", "1"), { code: 0, stdout: 'g2 = "-5"\n', stderr: "" });
    assert.deepEqual(await run("list", "zzz"), { code: 0, stdout: "(no keys)\n", stderr: "" });
    assert.deepEqual(await run("delete", "greeting"), { code: 0, stdout: "deleted (index 3)\n", stderr: "" });
    assert.deepEqual(await run("delete", "greeting"), { code: 0, stdout: "(not found, index 4)\n", stderr: "" });
  });

  test("--json prints exactly the reply, values JSON cannot hold included", async () => {
    assert.deepEqual(json(await run("--json", "put", "k", "v")), { ok: true, term: 1, leaderId: 2, index: 1 });
    assert.deepEqual(json(await run("--json", "get", "k")), { ok: true, term: 1, leaderId: 2, found: true, value: "v" });
    assert.deepEqual(json(await run("--json", "get", "absent")), { ok: true, term: 1, leaderId: 2, found: false, value: null });
    store.data.set("big", 2n ** 64n - 1n);
    store.data.set("bin", Buffer.from("hi"));
    const big = await run("--json", "get", "big");
    assert.match(big.stdout, /"value":18446744073709551615\}/, "big integers as exact digits");
    assert.deepEqual(json(await run("--json", "get", "bin")).value, { $binary: Buffer.from("hi").toString("base64") });
    const status = json(await run("--json", "status", "1"));
    assert.deepEqual([status.id, status.role, status.leaderId], [1, "follower", 2]);
    assert.deepEqual(json(await run("--json", "list")).entries, [["big", 18446744073709551615], ["bin", { $binary: "aGk=" }], ["k", "v"]]);
  });

  test("--json-value parses values as JSON; without it they are strings", async () => {
    await run("--json-value", "put", "obj", '{"__proto__": {"x": 1}, "list": [1, 2.5, null]}');
    const stored = store.data.get("obj") as Record<string, unknown>;
    assert.ok(Object.hasOwn(stored, "__proto__"));
    assert.deepEqual(stored.list, [1, 2.5, null]);
    await run("put", "text", "[1,2]");
    assert.equal(store.data.get("text"), "[1,2]");
    assert.equal((await run("get", "obj")).stdout, '{"__proto__":{"x":1},"list":[1,2.5,null]}\n');
  });

  test("cas: swapped is success; not swapped exits 1; null as EXPECTED means absent", async () => {
    assert.deepEqual(await run("cas", "lock", "null", "me"), { code: 0, stdout: "swapped (index 1)\n", stderr: "" });
    assert.deepEqual(await run("cas", "lock", "null", "you"), { code: 1, stdout: "", stderr: "zraft: not swapped: lock holds \"me\"\n" });
    const refused = await run("--json", "cas", "lock", "nobody", "you");
    assert.equal(refused.code, 1);
    assert.deepEqual(json(refused), { ok: true, term: 1, leaderId: 2, index: 3, swapped: false, value: "me" });
    assert.equal((await run("--json-value", "cas", "lock", '"me"', '{"owner": "you"}')).code, 0);
    assert.deepEqual(store.data.get("lock"), { owner: "you" });
    const lastCas = cluster.server(2).requestsOf("cas").at(-1);
    assert.equal(lastCas?.expect, "me");
    assert.equal(cluster.server(2).requestsOf("cas")[0]?.expect, null);
  });

  test("a failure exits 1 with one line on stderr, and with --json the error object on stdout", async () => {
    cluster.server(2).behaviour = () => ({ ok: false, term: 1, leaderId: 2, error: "BAD_REQUEST", message: "key must be 1 to 1024 bytes" });
    const plain = await run("get", "k");
    assert.deepEqual(plain, { code: 1, stdout: "", stderr: "zraft: BAD_REQUEST: key must be 1 to 1024 bytes\n" });
    const structured = await run("--json", "get", "k");
    assert.equal(structured.code, 1);
    assert.deepEqual(json(structured), { ok: false, error: "BAD_REQUEST", message: "key must be 1 to 1024 bytes" });
    const unknownServer = await run("--json", "status", "9");
    assert.equal(unknownServer.code, 1);
    assert.equal(json(unknownServer).error, "ERROR");
  });

  test("usage errors exit 2 with usage text", async () => {
    for (const argv of [["frob"], ["put", "k"], ["get"], ["get", "a", "b"], ["status", "x"], ["get", "k", "--limit", "2"], ["list", "--limit", "0"], ["--json-value", "put", "k", "{nope"]]) {
      const result = await run(...argv);
      assert.equal(result.code, 2, argv.join(" "));
      assert.match(result.stderr, /usage: npm run client/);
      assert.equal(result.stdout, "");
    }
  });

  test("the entry point runs a command from the command line and a config file", async () => {
    const configPath = join(dir, "cluster.json");
    writeFileSync(configPath, JSON.stringify({ servers: cluster.config.servers }));
    await run("put", "k", "from the library");
    const ok = await runCommand(["client/main.ts", "--config", configPath, "--json", "get", "k"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).value, "from the library");
    const viaEnvironment = await runCommand(["client/main.ts", "get", "k"], { env: { ZRAFT_CONFIG: configPath } });
    assert.equal(viaEnvironment.stdout, "from the library\n");

    writeFileSync(join(dir, "bad.json"), JSON.stringify({ servers: [{ id: 0, client: "tcp://127.0.0.1:1" }] }));
    const badConfig = await runCommand(["client/main.ts", "--config", join(dir, "bad.json"), "get", "k"]);
    assert.equal(badConfig.code, 2);
    assert.match(badConfig.stderr, /bad\.json: servers\[0\]\.id: must be a positive integer/);
    const badOption = await runCommand(["client/main.ts", "--frob"]);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /unknown option --frob\nusage:/);
  });
});

test("JSON text covers every value the store can return", () => {
  const value = new Map<unknown, unknown>([[1, [2n ** 70n, -0.5, Number.NaN, undefined, new Uint8Array([255])]]]);
  assert.equal(toJsonText(value), '{"$map":[[1,[1180591620717411303424,-0.5,null,null,{"$binary":"/w=="}]]]}');
  assert.equal(toJsonText(JSON.parse('{"__proto__": "kept"}')), '{"__proto__":"kept"}');
  assert.equal(toJsonText("a\n\"b\""), '"a\\n\\"b\\""');
});
