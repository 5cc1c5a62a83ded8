/**
 * Proves `zraft watch [PREFIX] [--from N]` (docs/protocol.md §1) against a
 * fake server's change journal, run in this process through the real
 * dispatcher: one line per change in log order (`INDEX put KEY=VALUE`, the
 * value as `get` prints it, or `INDEX delete KEY`), one JSON object per line
 * with --json, exit 0 on SIGINT and SIGTERM, exit 1 with one line on
 * COMPACTED, and exit 2 on bad usage before anything is sent.
 */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { runZraft } from "../../client/zraft.ts";
import { FakeCluster, behaviours } from "./fake-cluster.ts";

let cluster: FakeCluster;
const dir = mkdtempSync(join(tmpdir(), "zraft-watch-cli-"));
const configPath = join(dir, "cluster.json");

before(async () => {
  cluster = await FakeCluster.start(1);
  writeFileSync(configPath, JSON.stringify({ servers: cluster.config.servers }));
});
beforeEach(() => {
  cluster.server(1).behaviour = behaviours.journal();
  cluster.server(1).requests.length = 0;
});
after(async () => {
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `zraft watch ...`; once stdout holds `lines` lines (or at once when 0),
 * sends this process `signal` as a terminal's Ctrl-C would.
 */
async function watch(argv: readonly string[], lines: number, signal: NodeJS.Signals = "SIGINT"): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  let stopped = false;
  const running = runZraft(["--config", configPath, "watch", ...argv], {
    stdout: { write: (chunk: string | Uint8Array) => (stdout += chunk.toString()) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Object.assign(Readable.from([]), { isTTY: true }),
  }).finally(() => {
    stopped = true;
  });
  if (lines > 0) {
    while (!stopped && stdout.split("\n").length <= lines) await new Promise((resolve) => setTimeout(resolve, 5));
    process.emit(signal);
  }
  return { code: await running, stdout, stderr };
}

test("prints one line per change under the prefix, in log order, each value as get prints it; SIGINT ends it with 0", async () => {
  const result = await watch(["a/", "--from", "1"], 5);
  assert.deepEqual(result, {
    code: 0,
    stdout: ["1 put a/1=one", "4 put a/2=2", "5 delete a/1", "8 put a/3=[3]", "11 put a/4=four", ""].join("\n"),
    stderr: "",
  });
});

test("--json prints one JSON object per change and line; SIGTERM ends it with 0", async () => {
  const result = await watch(["b/", "--from", "2", "--json"], 3, "SIGTERM");
  assert.equal(result.code, 0);
  assert.deepEqual(
    result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown),
    [
      { index: 2, type: "put", key: "b/1", value: { n: 2 } },
      { index: 7, type: "put", key: "b/2", value: null },
      { index: 12, type: "delete", key: "b/1" },
    ],
  );
});

test("COMPACTED exits 1 with the server's sentence naming the oldest index", async () => {
  cluster.server(1).behaviour = behaviours.journal(6);
  const result = await watch(["--from", "3"], 0);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /^zraft: COMPACTED: the changes before index 6 are no longer kept\n$/);
});

test("a bad --from, or too many operands, is a usage error (exit 2) before anything is sent", async () => {
  for (const argv of [["--from", "0"], ["--from", "x"], ["--from", "9007199254740992"], ["a", "b"], ["--limit", "3"]]) {
    const result = await watch(argv, 0);
    assert.equal(result.code, 2, argv.join(" "));
    assert.match(result.stderr, /usage: zraft watch \[PREFIX\] \[options\]/);
  }
  assert.equal(cluster.server(1).requestsOf("watch").length, 0);
});
