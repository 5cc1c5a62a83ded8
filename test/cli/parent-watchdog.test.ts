/**
 * A child started under ZRAFT_PARENT_PID outlives a parent killed with
 * SIGKILL by at most a few seconds, and stops through its own stop path
 * rather than crashing on the parent's closed pipe (src/cli/parent-watchdog.ts).
 */
import { test } from "node:test";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { isProcessAlive, waitFor } from "../../src/local-cluster/index.ts";

test("a child whose parent is killed stops through its stop path, and a stop that hangs is cut short", async (t) => {
  const marker = join(mkdtempSync(join(tmpdir(), "zraft-orphan-")), "marker");
  const fixture = new URL("./orphan-process.ts", import.meta.url).pathname;
  const parent = spawn(process.execPath, ["--import", "tsx", fixture, "parent", marker], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  parent.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => /child (\d+)\n/.test(output), { timeoutMs: 20_000, what: "the parent to start its child" });
  const childPid = Number(/child (\d+)\n/.exec(output)?.[1]);
  t.after(() => {
    if (isProcessAlive(childPid)) process.kill(childPid, "SIGKILL");
  });
  // Let the child get going: it writes to the pipe every 20 ms.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  parent.kill("SIGKILL");
  await once(parent, "exit");

  // The child's next write fails with EPIPE long before the next check of its parent pid: before, that crashed it.
  await waitFor(() => readMarker(marker) === "stopping\n", { timeoutMs: 10_000, what: "the child to begin stopping" });
  await waitFor(() => !isProcessAlive(childPid), { timeoutMs: 20_000, what: "the child, whose stop never ends, to be ended" });
});

function readMarker(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
