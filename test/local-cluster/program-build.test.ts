/**
 * Proves that the server, the forwarder and the launcher run compiled
 * JavaScript, built on use (scripts/run-program.mjs): in a copy of the
 * project with no dist/, launchers started together build a program once
 * and all run it; an edited source runs as edited at the next start; a lock
 * left by a builder that died does not hold anyone up; and npm's scripts and
 * local-cluster's processes go through the launcher.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { environmentFor, nodeArgumentsFor, programEnvironment, programNodeOptions } from "../../src/local-cluster/program-command.ts";
import { repoRoot } from "../../src/local-cluster/project-process.ts";

const run = promisify(execFile);

/** The files the launcher needs to build and run every program. */
const projectFiles = ["bin", "client", "forwarder", "src", "scripts", "package.json", "tsconfig.json"];

/** A copy of the project without dist/, removed after the test. */
function projectCopy(t: { after(fn: () => void): void }): string {
  const copy = mkdtempSync(join(tmpdir(), "zraft-build-"));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  for (const file of projectFiles) cpSync(join(repoRoot, file), join(copy, file), { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(copy, "node_modules"));
  return copy;
}

const runProgram = (copy: string, ...args: string[]) => run(process.execPath, [join(copy, "scripts", "run-program.mjs"), ...args], { cwd: tmpdir() });

const buildsOf = (copy: string, program: string): string[] => readdirSync(join(copy, "dist", program)).filter((name) => name.startsWith("build-"));

test("launchers that find no build start together, build once and all run it; an edited source runs as edited", async (t) => {
  const copy = projectCopy(t);
  const results = await Promise.all([1, 2, 3, 4].map(() => runProgram(copy, "server", "--help")));
  for (const { stdout, stderr } of results) assert.deepEqual([stdout.split("\n")[0], stderr], ["usage: npm run server -- --id N [--config FILE] [--join] [--log-level LEVEL] [--log-json FILE]", ""]);
  assert.equal(buildsOf(copy, "server").length, 1, "one build for four launchers");

  const main = join(copy, "src", "server", "main.ts");
  writeFileSync(main, `process.stderr.write("edited\\n");\n${readFileSync(main, "utf8")}`);
  assert.equal((await runProgram(copy, "server", "--help")).stderr, "edited\n");
});

test("a build lock left by a builder that died is taken over", async (t) => {
  const copy = projectCopy(t);
  const dead = await run(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  mkdirSync(join(copy, "dist", "forwarder"), { recursive: true });
  writeFileSync(join(copy, "dist", "forwarder", "build.lock"), dead.stdout);
  assert.match((await runProgram(copy, "forwarder", "--help")).stdout, /^usage: npm run forwarder/);
});

test("an unknown program is refused with the list of programs", async () => {
  await assert.rejects(runProgram(repoRoot, "nonesuch"), (error: { stderr: string; code: number }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr, /^nonesuch: cannot build: no program "nonesuch" \(scripts\/programs\.json names zraft, server, forwarder, cluster\)\n$/);
    return true;
  });
});

test("npm's scripts and local-cluster's processes run the programs through the launcher, other scripts through tsx", () => {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  assert.equal(scripts.start, "npm run cluster --");
  assert.equal(scripts.cluster, "node scripts/run-program.mjs cluster");
  // The server's node options (scripts/program-node-options.json), in its npm script and in local-cluster alike.
  assert.deepEqual(programNodeOptions, { server: ["--max-semi-space-size=2", "--heap-growing-percent=40"] });
  // And its environment variables (scripts/program-environment.json).
  assert.deepEqual(programEnvironment, { server: { MALLOC_MMAP_THRESHOLD_: "65536" } });
  assert.equal(scripts.server, `MALLOC_MMAP_THRESHOLD_=65536 node ${programNodeOptions.server?.join(" ")} scripts/run-program.mjs server`);
  assert.deepEqual(environmentFor(["src/server/main.ts", "--id", "1"]), { MALLOC_MMAP_THRESHOLD_: "65536" });
  assert.deepEqual(environmentFor(["forwarder/main.ts"]), {});
  assert.equal(scripts.forwarder, "node scripts/run-program.mjs forwarder");
  const runner = join(repoRoot, "scripts", "run-program.mjs");
  assert.deepEqual(nodeArgumentsFor(["src/server/main.ts", "--id", "1"]), ["--max-semi-space-size=2", "--heap-growing-percent=40", runner, "server", "--id", "1"]);
  assert.deepEqual(nodeArgumentsFor(["forwarder/main.ts"]), [runner, "forwarder"]);
  assert.deepEqual(nodeArgumentsFor(["scripts/cluster.ts"]), [runner, "cluster"]);
  assert.deepEqual(nodeArgumentsFor(["client/ctl.ts", "leader"]), ["--import", "tsx", "client/ctl.ts", "leader"]);
});
