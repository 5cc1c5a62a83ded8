/**
 * Proves the `zraft` command's one-shot data commands (docs/protocol.md §1)
 * against fake servers, run in this process through the same dispatcher as
 * the real command: human output by default, exactly one JSON object (the
 * reply) with --json, values as strings unless --json-value, values from
 * standard input and --file byte for byte, `get --raw` giving back the exact
 * bytes, `list` cut to the line, --server and --endpoints choosing where to
 * start, and the exit codes: 0 success; 1 failure, a `get` of an absent key
 * and a `cas` that did not swap; 2 a usage or config error, in one line and
 * a usage line, before anything is sent.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { runZraft } from "../../client/zraft.ts";
import { toJsonText } from "../../client/json-text.ts";
import { inputBytesMax } from "../../client/value-input.ts";
import { runCommand } from "../e2e/harness.ts";
import { FakeCluster, type FakeStore } from "./fake-cluster.ts";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as bytes, for --raw. */
  readonly bytes: Buffer;
}

interface RunOptions {
  /** What standard input holds; a terminal with nothing typed when absent. */
  readonly stdin?: Buffer;
  /** The terminal's width, when stdout is to be one. */
  readonly columns?: number;
}

describe("the one-shot data commands", () => {
  let cluster: FakeCluster;
  let store: FakeStore;
  const dir = mkdtempSync(join(tmpdir(), "zraft-cli-"));
  const configPath = join(dir, "cluster.json");

  const runWith = async (options: RunOptions, ...argv: string[]): Promise<Run> => {
    const out: Buffer[] = [];
    let stderr = "";
    const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [options.stdin]), { isTTY: options.stdin === undefined });
    const code = await runZraft(["--config", configPath, ...argv], {
      stdout: { write: (chunk: string | Uint8Array) => out.push(Buffer.from(chunk)), isTTY: options.columns !== undefined, columns: options.columns },
      stderr: { write: (text: string) => (stderr += text) },
      stdin,
    });
    const bytes = Buffer.concat(out);
    return { code, stdout: bytes.toString("utf8"), stderr, bytes };
  };
  const run = (...argv: string[]): Promise<Run> => runWith({}, ...argv);
  const json = (result: Run): Record<string, unknown> => {
    assert.equal(result.stdout.trimEnd().split("\n").length, 1, "exactly one line of JSON");
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const plain = ({ code, stdout, stderr }: Run) => ({ code, stdout, stderr });

  before(async () => {
    cluster = await FakeCluster.start(2);
    writeFileSync(configPath, JSON.stringify({ servers: cluster.config.servers }));
  });
  beforeEach(() => {
    store = cluster.elect(2);
  });
  after(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("put, get, delete and list print lines for a person", async () => {
    assert.deepEqual(plain(await run("put", "greeting", "hello world")), { code: 0, stdout: "OK (index 1)\n", stderr: "" });
    assert.deepEqual(plain(await run("get", "greeting")), { code: 0, stdout: "hello world\n", stderr: "" });
    await run("put", "g2", "-5");
    assert.equal(store.data.get("g2"), "-5", "a value that looks like an option or a number stays a string");
    assert.deepEqual(plain(await run("list", "g")), { code: 0, stdout: 'g2  "-5"\ngreeting  "hello world"\n', stderr: "" });
    assert.deepEqual(plain(await run("list", "g", "--limit", "1")), { code: 0, stdout: 'g2  "-5"\n', stderr: "" });
    assert.deepEqual(plain(await run("list", "zzz")), { code: 0, stdout: "(no keys)\n", stderr: "" });
    assert.deepEqual(plain(await run("delete", "greeting")), { code: 0, stdout: "deleted (index 3)\n", stderr: "" });
    assert.deepEqual(plain(await run("delete", "greeting")), { code: 0, stdout: "(not found, index 4)\n", stderr: "" });
  });

  test("get of an absent key exits 1 with the message on stderr; with --json the reply is still printed", async () => {
    assert.deepEqual(plain(await run("get", "nothing")), { code: 1, stdout: "", stderr: 'zraft: key "nothing" not found\n' });
    const structured = await run("--json", "get", "nothing");
    assert.equal(structured.code, 1);
    assert.deepEqual(json(structured), { ok: true, term: 1, leaderId: 2, found: false, value: null });
    assert.equal(structured.stderr, 'zraft: key "nothing" not found\n');
    store.data.set("(not found)", "x");
    assert.deepEqual(plain(await run("get", "(not found)")), { code: 0, stdout: "x\n", stderr: "" });
  });

  test("--json prints exactly the reply, values JSON cannot hold included", async () => {
    assert.deepEqual(json(await run("--json", "put", "k", "v")), { ok: true, term: 1, leaderId: 2, index: 1 });
    assert.deepEqual(json(await run("--json", "get", "k")), { ok: true, term: 1, leaderId: 2, found: true, value: "v" });
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
    assert.deepEqual(plain(await run("cas", "lock", "null", "me")), { code: 0, stdout: "swapped (index 1)\n", stderr: "" });
    assert.deepEqual(plain(await run("cas", "lock", "null", "you")), { code: 1, stdout: "", stderr: 'zraft: not swapped: lock holds "me"\n' });
    const refused = await run("--json", "cas", "lock", "nobody", "you");
    assert.equal(refused.code, 1);
    assert.deepEqual(json(refused), { ok: true, term: 1, leaderId: 2, index: 3, swapped: false, value: "me" });
    assert.equal((await run("--json-value", "cas", "lock", '"me"', '{"owner": "you"}')).code, 0);
    assert.deepEqual(store.data.get("lock"), { owner: "you" });
    assert.equal(cluster.server(2).requestsOf("cas").at(-1)?.expect, "me");
    assert.equal(cluster.server(2).requestsOf("cas")[0]?.expect, null);
  });

  test("a failure exits 1 with one line on stderr, and with --json the error object on stdout", async () => {
    cluster.server(2).behaviour = () => ({ ok: false, term: 1, leaderId: 2, error: "BAD_REQUEST", message: "key must be 1 to 1024 bytes" });
    assert.deepEqual(plain(await run("get", "k")), { code: 1, stdout: "", stderr: "zraft: BAD_REQUEST: key must be 1 to 1024 bytes\n" });
    const structured = await run("--json", "get", "k");
    assert.equal(structured.code, 1);
    assert.deepEqual(json(structured), { ok: false, error: "BAD_REQUEST", message: "key must be 1 to 1024 bytes" });
  });

  test("usage errors exit 2 with one line and a usage line, and send nothing", async () => {
    const sentBefore = cluster.server(1).requestsOf("get").length + cluster.server(2).requestsOf("get").length;
    const cases: readonly (readonly [readonly string[], RegExp])[] = [
      [["frob"], /^zraft: unknown command "frob"; the commands are get, put, delete, list, cas, watch, status/],
      [["get"], /^zraft: get takes 1 operand \(KEY\), got 0/],
      [["get", "a", "b"], /^zraft: get takes 1 operand/],
      [["get", ""], /^zraft: KEY must be 1 to 1024 bytes of UTF-8, got 0$/m],
      [["put", "", "v"], /^zraft: KEY must be 1 to 1024 bytes of UTF-8, got 0$/m],
      [["delete", "k".repeat(1025)], /^zraft: KEY must be 1 to 1024 bytes of UTF-8, got 1025$/m],
      [["cas", "", "null", "v"], /^zraft: KEY must be 1 to 1024 bytes/],
      [["status", "x"], /^zraft: status x: the config has no such server \(ids: 1, 2\)/],
      [["get", "k", "--limit", "2"], /^zraft: option --limit does not go with get/],
      [["put", "k", "v", "--raw"], /^zraft: option --raw does not go with put/],
      [["get", "k", "--raw", "--json"], /^zraft: --raw and --json each say how to print the value/],
      [["list", "--limit", "0"], /^zraft: --limit must be a positive integer, got "0"/],
      [["--json-value", "put", "k", "{nope"], /^zraft: VALUE is not valid JSON/],
      [["put", "k", "v", "--file", configPath], /^zraft: give VALUE or --file, not both/],
      [["put", "k", "--file", join(dir, "absent")], /^zraft: --file .*absent: cannot be read \(ENOENT\)/],
      [["get", "k", "--server", "7"], /^zraft: --server 7: the config has no such server \(ids: 1, 2\)/],
      [["get", "k", "--endpoints", "127.0.0.1:1"], /^zraft: --endpoints: "127.0.0.1:1" is not a server of the config/],
      [["get", "k", "--server", "1", "--endpoints", "x"], /^zraft: give --endpoints or --server, not both/],
      [["--json"], /^zraft: option --json does not go with the interactive client/],
    ];
    for (const [argv, message] of cases) {
      const result = await run(...argv);
      assert.equal(result.code, 2, argv.join(" "));
      assert.match(result.stderr, message, argv.join(" "));
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 2, `one line and a usage line: ${result.stderr}`);
      assert.match(lines[1] as string, /^usage: zraft/);
      assert.equal(result.stdout, "");
    }
    assert.equal(cluster.server(1).requestsOf("get").length + cluster.server(2).requestsOf("get").length, sentBefore, "nothing was sent");
  });

  test("put reads the value from standard input (VALUE - or left out) or --file, byte for byte", async () => {
    assert.deepEqual(plain(await runWith({ stdin: Buffer.from("from a pipe\n") }, "put", "text", "-")), { code: 0, stdout: "OK (index 1)\n", stderr: "" });
    assert.equal(store.data.get("text"), "from a pipe\n", "UTF-8 is stored as a string, newline and all");
    await runWith({ stdin: Buffer.from("\ufeffbom kept") }, "put", "bom");
    assert.equal(store.data.get("bom"), "\ufeffbom kept", "a byte-order mark is a character like any other");
    const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), randomBytes(1000)]);
    await runWith({ stdin: binary }, "put", "bin");
    assert.deepEqual(store.data.get("bin"), binary, "bytes that are not UTF-8 are stored as binary");
    const file = join(dir, "value.bin");
    writeFileSync(file, binary);
    assert.equal((await run("put", "from-file", "--file", file)).code, 0);
    assert.deepEqual(store.data.get("from-file"), binary);
    await runWith({ stdin: Buffer.from('{"n": [1, 2]}') }, "--json-value", "put", "parsed", "-");
    assert.deepEqual(store.data.get("parsed"), { n: [1, 2] });
    assert.equal(store.data.get("-"), undefined, "no key or value was ever the literal -");
  });

  test("a value from standard input or a file that is too large is a usage error, sent to no server", async () => {
    const sentBefore = cluster.server(2).requestsOf("put").length;
    const tooLarge = Buffer.alloc(inputBytesMax + 1, 0x61);
    const fromStdin = await runWith({ stdin: tooLarge }, "put", "big");
    assert.equal(fromStdin.code, 2);
    assert.match(fromStdin.stderr, /^zraft: the value from standard input is more than 1,048,571 bytes; a value may have at most 1,048,571 \(1 MiB of MessagePack, less its 5-byte header\)\n/);
    const file = join(dir, "big.txt");
    writeFileSync(file, tooLarge);
    const fromFile = await run("put", "big", "--file", file);
    assert.equal(fromFile.code, 2);
    assert.match(fromFile.stderr, /big\.txt is 1,048,572 bytes; a value may have at most 1,048,571/);
    assert.equal(cluster.server(2).requestsOf("put").length, sentBefore);
    assert.equal((await runWith({ stdin: tooLarge.subarray(1) }, "put", "big")).code, 0, "the largest value is taken");
  });

  test("get --raw writes exactly the value's bytes; a value with no bytes of its own is refused", async () => {
    const binary = randomBytes(4096);
    store.data.set("bin", binary);
    store.data.set("text", "héllo\n");
    store.data.set("number", 5);
    assert.deepEqual((await run("get", "bin", "--raw")).bytes, binary);
    assert.deepEqual((await run("get", "text", "--raw")).bytes, Buffer.from("héllo\n", "utf8"), "a string as its UTF-8, no newline added");
    assert.deepEqual(plain(await run("get", "number", "--raw")), {
      code: 1,
      stdout: "",
      stderr: 'zraft: "number" holds a number, which has no raw bytes (only strings and binary do): print it without --raw, or with --json\n',
    });
    assert.deepEqual(plain(await run("get", "absent", "--raw")), { code: 1, stdout: "", stderr: 'zraft: key "absent" not found\n' });
  });

  test("list cuts values to the terminal's width, or to 80 columns, and says their size", async () => {
    const huge130KiB = "abc".repeat(130 * 1024).slice(0, 130 * 1024);
    store.data.set("huge", huge130KiB);
    store.data.set("small", "s");
    const piped = await run("list");
    const [huge, small] = piped.stdout.trimEnd().split("\n");
    assert.ok((huge as string).length <= 80, huge);
    assert.match(huge as string, /^huge {2}"abcabc.*… \(130 KiB\)$/);
    assert.equal(small, 'small  "s"');
    const narrow = await runWith({ columns: 40 }, "list", "huge");
    assert.ok(narrow.stdout.trimEnd().length <= 40, narrow.stdout);
    const whole = json(await run("list", "--json"));
    assert.equal((whole.entries as [string, string][])[0]?.[1], huge130KiB, "--json prints whole values");
  });

  test("--server and --endpoints choose where to start", async () => {
    const asked = (id: number): number => cluster.server(id).requestsOf("get").length;
    const before1 = asked(1);
    const before2 = asked(2);
    store.data.set("k", "v");
    assert.equal((await run("get", "k", "--server", "2")).stdout, "v\n");
    assert.deepEqual([asked(1) - before1, asked(2) - before2], [0, 1], "straight to server 2");
    const endpoint2 = cluster.config.servers[1]?.client as string;
    assert.equal((await run("get", "k", "--endpoints", `${endpoint2.replace("tcp://", "")},${cluster.config.servers[0]?.client}`)).stdout, "v\n");
    assert.deepEqual([asked(1) - before1, asked(2) - before2], [0, 2], "--endpoints HOST:PORT names server 2 first");
    assert.equal((await run("get", "k")).stdout, "v\n");
    assert.deepEqual([asked(1) - before1, asked(2) - before2], [1, 3], "by default server 1 first, which redirects to the leader");
  });

  test("the entry point runs a command from the command line and a config file", async () => {
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
