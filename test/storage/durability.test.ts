/**
 * Proves that LmdbStorage.save and WalStorage.save resolve only once the write is on disk, as
 * Raft requires before a server answers any RPC (paper, Figure 2: "updated on
 * stable storage before responding to RPCs"):
 *  - under strace, a child process's data file is written and fsync'd (or
 *    written through an O_DSYNC descriptor) before the child prints the
 *    marker it prints right after save() resolved; likewise for a snapshot
 *    stored, a compaction and a save with a received snapshot (dissertation
 *    ch. 5: a follower answers InstallSnapshot once the snapshot is stored);
 *    the same checker flags a raw lmdb-js write opened with noSync, so it is
 *    not vacuous;
 *  - a child killed with SIGKILL in the middle of a stream of saves loses
 *    none of the saves it had reported, and each save is all-or-nothing.
 * Needs strace for the first part (CI: `apt-get install -y strace`); without it
 * those tests are skipped with the reason printed.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { WalStorage, walFileName } from "../../src/storage/wal-storage.ts";
import { childEntryData, childWalLimits } from "./save-child.ts";
import { findDurabilityViolation, parseStraceLog } from "./syscall-trace.ts";

const childScript = fileURLToPath(new URL("./save-child.ts", import.meta.url));
const childTimeoutMs = 60_000;

function temporaryDirectory(t: { after(fn: () => void): void }): string {
  const directory = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zraft-durability-")));
  t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Why strace cannot be used here, or null when it can trace a process. */
function straceUnavailable(): string | null {
  const probe = spawnSync("strace", ["-f", "-o", "/dev/null", "true"], { encoding: "utf8" });
  if (probe.error !== undefined) return `strace not installed: ${probe.error.message} (apt-get install -y strace)`;
  if (probe.status !== 0) return `strace cannot trace here: ${probe.stderr.trim()}`;
  return null;
}

/** Runs save-child.ts under strace and checks the syscalls between its OPENED and SAVED 1 markers. */
function traceOneSave(mode: string, dataDir: string, dataFile = "data.mdb"): string | null {
  const traceFile = path.join(dataDir, "strace.log");
  const traced = spawnSync(
    "strace",
    [
      "-f",
      "-y",
      "-o",
      traceFile,
      "-e",
      "trace=openat,close,write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,msync",
      process.execPath,
      "--import",
      "tsx",
      childScript,
      mode,
      dataDir,
      "1",
    ],
    { encoding: "utf8", timeout: childTimeoutMs },
  );
  assert.equal(traced.status, 0, `child failed: ${traced.stderr}`);
  assert.equal(traced.stdout, "OPENED\nSAVED 1\n");
  const calls = parseStraceLog(fs.readFileSync(traceFile, "utf8"));
  return findDurabilityViolation(calls, path.join(dataDir, "server-1", dataFile), "OPENED\n", "SAVED 1\n");
}

test("save() resolves only after the data file was written and fsync'd (strace)", (t) => {
  const reason = straceUnavailable();
  if (reason !== null) {
    t.skip(reason);
    return;
  }
  assert.equal(traceOneSave("storage", temporaryDirectory(t)), null);
});

for (const [mode, how] of [["wal", "on libuv's pool"], ["wal-inline", "on the calling thread"]] as const) {
  test(`WalStorage, writes ${how}: save() resolves only after the log file was written through its O_DSYNC descriptor (strace)`, (t) => {
    const reason = straceUnavailable();
    if (reason !== null) {
      t.skip(reason);
      return;
    }
    assert.equal(traceOneSave(mode, temporaryDirectory(t), walFileName), null);
  });
}

for (const mode of ["snapshot", "compact", "install", "wal-snapshot", "wal-compact", "wal-install"] as const) {
  test(`${mode}: the write resolves only after the data file was written and fsync'd (strace)`, (t) => {
    const reason = straceUnavailable();
    if (reason !== null) {
      t.skip(reason);
      return;
    }
    assert.equal(traceOneSave(mode, temporaryDirectory(t)), null);
  });
}

test("the syscall checker flags a save that was never fsync'd (lmdb-js with noSync)", (t) => {
  const reason = straceUnavailable();
  if (reason !== null) {
    t.skip(reason);
    return;
  }
  assert.match(traceOneSave("unsynced-lmdb", temporaryDirectory(t)) ?? "", /not followed by fsync\/fdatasync/);
});

/** Starts save-child.ts, kills it with SIGKILL once it reported `killAfter` saves, returns the last save it reported. */
async function saveUntilKilled(mode: "storage" | "wal" | "wal-inline", dataDir: string, killAfter: number): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", childScript, mode, dataDir, "5000"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), childTimeoutMs);
  let reported = 0;
  let pending = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const saved = /^SAVED (\d+)$/.exec(line);
      if (saved === null) continue;
      reported = Number(saved[1]);
      if (reported >= killAfter) child.kill("SIGKILL");
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  clearTimeout(timer);
  assert.equal(signal, "SIGKILL", `child ended with code ${String(code)} before it was killed: ${stderr}`);
  return reported;
}

const killedStorages = [
  { mode: "storage", name: "LmdbStorage", killAfter: 30, open: (dataDir: string) => LmdbStorage.open(dataDir, 1) },
  // Past a few starts of the log file over and many checkpoints (childWalLimits).
  { mode: "wal", name: "WalStorage", killAfter: 1000, open: (dataDir: string) => WalStorage.open(dataDir, 1, childWalLimits) },
  { mode: "wal-inline", name: "WalStorage, inline writes", killAfter: 1000, open: (dataDir: string) => WalStorage.open(dataDir, 1, childWalLimits) },
] as const;

for (const { mode, name, killAfter, open } of killedStorages) {
  test(`${name}: a process killed with SIGKILL right after saves resolved loses none of them`, async (t) => {
    const dataDir = temporaryDirectory(t);
    const reported = await saveUntilKilled(mode, dataDir, killAfter);
    assert.ok(reported >= killAfter);

    const storage = await open(dataDir);
    t.after(() => storage.close());
    const { hardState, entries } = await storage.load();
    // Saves that resolved are all there; the kill may have caught later ones too, each whole or not at all.
    assert.ok(entries.length >= reported, `reported ${reported} saves, found ${entries.length} entries`);
    assert.deepEqual(hardState, { currentTerm: entries.length, votedFor: 1, commitIndex: entries.length - 1 });
    entries.forEach((entry, i) => {
      const k = i + 1;
      assert.deepEqual(entry, { index: k, term: k, type: "command", data: childEntryData(k) });
    });
    // The killed writer left nothing that blocks the next one.
    await storage.save(null, [{ index: entries.length + 1, term: entries.length, type: "noop", data: new Uint8Array() }]);
  });
}
