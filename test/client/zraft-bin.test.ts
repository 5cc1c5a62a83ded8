/**
 * Proves that the `zraft` command (package.json "bin": bin/zraft.mjs) runs
 * compiled JavaScript, and builds it when needed: in a copy of the project
 * with no dist/, the first start builds it and runs; the next start runs the
 * same build; a changed source file makes the next start build again;
 * `npm run client --` and `npm run ctl --` go through the launcher; and a
 * reader that closes the pipe early gets no stack trace.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../e2e/harness.ts";

const run = promisify(execFile);

/** The files the launcher needs to build and run the command. */
const projectFiles = ["bin", "client", "src", "scripts", "package.json", "tsconfig.json"];

test("bin/zraft.mjs builds the command when dist/ is missing or stale, and runs the build", async (t) => {
  const copy = mkdtempSync(join(tmpdir(), "zraft-bin-"));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  for (const file of projectFiles) cpSync(join(repoRoot, file), join(copy, file), { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(copy, "node_modules"));
  const manifest = join(copy, "dist", "zraft", "manifest.json");
  const currentBuild = (): string => (JSON.parse(readFileSync(manifest, "utf8")) as { build: string }).build;
  const zraft = (...args: string[]) => run(process.execPath, [join(copy, "bin", "zraft.mjs"), ...args], { cwd: tmpdir() });

  assert.equal(existsSync(join(copy, "dist")), false);
  const first = await zraft("--help");
  assert.match(first.stdout, /^usage: zraft /);
  assert.equal(first.stderr, "");
  const built = currentBuild();
  assert.ok(existsSync(join(copy, "dist", "zraft", built, "main.js")), "the compiled entry");

  await zraft("get", "--help");
  assert.equal(currentBuild(), built, "an unchanged checkout runs the same build");

  const later = new Date(Date.now() + 5_000);
  utimesSync(join(copy, "client", "help.ts"), later, later);
  assert.match((await zraft("--help")).stdout, /^usage: zraft /);
  assert.notEqual(currentBuild(), built, "an edited source is compiled again");
});

test("a reader that stops early (zraft ... | head) ends the command quietly", async () => {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "zraft.mjs"), "completion", "bash"], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "close")) as [number | null];
  assert.deepEqual([code, stderr], [0, ""]);
});

test("npm run client -- and npm run ctl -- run the launcher", () => {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string>; bin: Record<string, string> });
  assert.deepEqual(scripts.bin, { zraft: "bin/zraft.mjs" });
  assert.equal(scripts.scripts.client, "node bin/zraft.mjs");
  assert.equal(scripts.scripts.ctl, "node bin/zraft.mjs ctl");
});
