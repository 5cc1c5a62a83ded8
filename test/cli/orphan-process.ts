/**
 * Fixture for parent-watchdog.test.ts. `parent MARKER` starts itself as
 * `child MARKER` with piped stdout and stderr and ZRAFT_PARENT_PID set, as
 * the launcher starts a server, prints the child's pid and waits. The child
 * writes a line every 20 ms and, once its parent is gone, appends "stopping"
 * to MARKER and then never finishes stopping.
 */
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parentPidVariable, watchParentProcess } from "../../src/cli/parent-watchdog.ts";

const [role, marker] = process.argv.slice(2) as [string, string];
if (role === "parent") {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "child", marker], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, [parentPidVariable]: String(process.pid) },
  });
  process.stdout.write(`child ${child.pid}\n`);
  setInterval(() => {}, 60_000);
} else {
  watchParentProcess(() => {
    appendFileSync(marker, "stopping\n");
    setInterval(() => process.stdout.write("still stopping\n"), 20);
  });
  setInterval(() => process.stdout.write("working\n"), 20);
}
