/**
 * A full disk, on a real server process: its data directory sits on a small
 * tmpfs (room for the 8 MiB write-ahead log and 4 MiB more), and a client
 * writes 100 KB values until the disk fills. The server
 * must stop with one clear line (no stack trace) and exit 1, having
 * acknowledged nothing that is not on disk (docs/architecture.md §4); with
 * room again, it restarts with every acknowledged write. Mounting a tmpfs
 * needs root; elsewhere the test skips and says why.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestCluster, waitFor } from "./harness.ts";

function mountSmallDisk(): { readonly dir: string } | { readonly skip: string } {
  if (process.getuid?.() !== 0) return { skip: "mounting a small tmpfs needs root" };
  const dir = mkdtempSync(join(tmpdir(), "zraft-small-disk-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=12m", "tmpfs", dir], { encoding: "utf8" });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${(mounted.stderr || mounted.error?.message || "").trim()}` };
  }
  return { dir };
}

test("a full disk stops the server with one clear line; every acknowledged write survives", async (t) => {
  const disk = mountSmallDisk();
  if ("skip" in disk) {
    t.skip(disk.skip);
    return;
  }
  t.after(() => {
    spawnSync("umount", ["-l", disk.dir]);
    rmSync(disk.dir, { recursive: true, force: true });
  });
  const cluster = await TestCluster.start(t, { servers: 1, extraConfig: { dataDir: join(disk.dir, "data") } });
  const client = cluster.client({ requestTimeoutMs: 1_000, deadlineMs: 3_000 });
  const value = "x".repeat(100_000);
  const acknowledged: string[] = [];
  for (let i = 0; i < 200; i++) {
    try {
      await client.put(`k${i}`, value);
      acknowledged.push(`k${i}`);
    } catch {
      break;
    }
  }
  assert.ok(acknowledged.length > 3 && acknowledged.length < 200, `${acknowledged.length} writes acknowledged before the disk filled`);

  const server = cluster.process("server-1");
  const exit = await waitFor(() => server?.exit, { timeoutMs: 10_000, what: "the server to stop" });
  assert.equal(exit.code, 1);
  const output = server?.output() ?? "";
  const stopLines = output.split("\n").filter((line) => /stopping: .*writing to disk failed/.test(line));
  assert.equal(stopLines.length, 1, output.slice(-2_000));
  // The system's own reason: tmpfs reports a full disk to LMDB's writes as an I/O error.
  assert.match(stopLines[0] as string, /writing to disk failed \((.*space.*|Input\/output error), code \w+\)/i);
  assert.match(stopLines[0] as string, /nothing that was not on disk was acknowledged/);
  assert.doesNotMatch(output, /fatal:/, "a full disk is not reported as a bug");

  assert.equal(spawnSync("mount", ["-o", "remount,size=64m", disk.dir]).status, 0);
  await cluster.restart(1);
  const reader = cluster.client();
  for (const key of acknowledged) assert.equal((await reader.get(key)).value, value, `${key} survived`);
});
