/**
 * One builder at a time per program: when a stale build meets several
 * launchers at once (five servers started together after an edit), one
 * builds and the others wait for its build instead of making their own.
 *
 * The lock only saves work. Builds stay correct without it (each goes to a
 * folder of its own and is published by a rename), so a lock whose holder
 * died is simply taken over, and the rare race in doing so costs at worst
 * a second build.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const pollMs = 50;

/** A lock file still empty after this long lost its holder between creating and writing it. */
const unwrittenLockMs = 5_000;

/** Runs `work` while holding the lock file `path` (its folder must exist); resolves to what `work` returns. */
export async function withLock(path, work) {
  while (!tryLock(path)) {
    if (holderIsGone(path)) rmSync(path, { force: true });
    else await sleep(pollMs);
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}

function tryLock(path) {
  try {
    writeFileSync(path, String(process.pid), { flag: "wx" });
    return true;
  } catch (error) {
    if (error.code === "EEXIST") return false;
    throw error;
  }
}

function holderIsGone(path) {
  let pid;
  let ageMs;
  try {
    pid = Number(readFileSync(path, "utf8"));
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    // Released meanwhile: the next attempt takes it.
    return false;
  }
  // Empty while its holder has created it but not written its pid yet.
  if (!Number.isInteger(pid) || pid <= 0) return ageMs > unwrittenLockMs;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error.code === "ESRCH";
  }
}
