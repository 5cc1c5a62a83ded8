/**
 * Proves, through the real `zraft` command (bin/zraft.mjs) and a real
 * cluster, that a value goes in from standard input or a file and comes back
 * out of `get --raw` byte for byte, for the largest value the cluster takes
 * (1 MiB of MessagePack less its 5-byte header) of random binary and for
 * UTF-8 text; that `get` of an absent key exits 1 with the message on
 * stderr and an empty key exits 2; and that the command still answers with
 * server 1 down.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { inputBytesMax } from "../../client/value-input.ts";
import { repoRoot, TestCluster } from "../e2e/harness.ts";

interface BinResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs bin/zraft.mjs with `args`, `stdin` as its standard input (empty when absent). */
function zraft(args: readonly string[], stdin?: Buffer): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin", "zraft.mjs"), ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}

/** The largest binary value the cluster takes, certainly not UTF-8 (0xff never occurs in UTF-8). */
const largestBinary = (): Buffer => Buffer.concat([Buffer.from([0xff]), randomBytes(inputBytesMax - 1)]);

test("values from stdin and --file round-trip byte for byte through a real cluster", async (t) => {
  const cluster = await TestCluster.start(t);
  const config = ["--config", cluster.configPath];

  const fromStdin = largestBinary();
  const put = await zraft([...config, "put", "stdin-binary", "-"], fromStdin);
  assert.equal(put.code, 0, put.stderr);
  assert.match(put.stdout.toString(), /^OK \(index \d+\)\n$/);
  const back = await zraft([...config, "get", "stdin-binary", "--raw"]);
  assert.equal(back.code, 0, back.stderr);
  assert.ok(back.stdout.equals(fromStdin), `get --raw gives back the ${fromStdin.length} bytes put from stdin (got ${back.stdout.length})`);

  const fromFile = largestBinary();
  const file = join(cluster.dir, "value.bin");
  writeFileSync(file, fromFile);
  assert.equal((await zraft([...config, "put", "file-binary", "--file", file])).code, 0);
  assert.ok((await zraft([...config, "get", "file-binary", "--raw"])).stdout.equals(fromFile), "get --raw gives back the file's bytes");

  const text = Buffer.from("naïve café, 日本語\nsecond line\n", "utf8");
  assert.equal((await zraft([...config, "put", "text"], text)).code, 0, "a value left out is read from stdin");
  assert.equal((await zraft([...config, "get", "text"])).stdout.toString("utf8"), `${text.toString("utf8")}\n`, "UTF-8 is stored as text");
  assert.ok((await zraft([...config, "get", "text", "--raw"])).stdout.equals(text));

  const tooLarge = await zraft([...config, "put", "big", "-"], Buffer.alloc(inputBytesMax + 1));
  assert.equal(tooLarge.code, 2);
  assert.match(tooLarge.stderr, /^zraft: the value from standard input is more than 1,048,571 bytes/);
});

test("exit codes: an absent key exits 1 with the message on stderr, an empty key 2; server 1 down changes neither", async (t) => {
  const cluster = await TestCluster.start(t);
  const config = ["--config", cluster.configPath];
  assert.equal((await zraft([...config, "put", "k", "v"])).code, 0);
  const absent = await zraft([...config, "get", "absent"]);
  assert.deepEqual([absent.code, absent.stdout.toString(), absent.stderr], [1, "", 'zraft: key "absent" not found\n']);
  const empty = await zraft([...config, "get", ""]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /^zraft: KEY must be 1 to 1024 bytes of UTF-8, got 0\nusage: zraft get KEY/);

  await cluster.kill(1);
  const withoutServer1 = await zraft([...config, "get", "k"]);
  assert.deepEqual([withoutServer1.code, withoutServer1.stdout.toString()], [0, "v\n"], withoutServer1.stderr);
  assert.equal((await zraft([...config, "get", "absent"])).code, 1);
});
