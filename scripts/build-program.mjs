/**
 * Builds one of the project's programs (scripts/programs.json: the `zraft`
 * command, the server, the forwarder, the `npm start` launcher) with
 * everything it imports into plain JavaScript, so that starting it costs no
 * TypeScript compile (tsx compiles every module at each start and keeps an
 * esbuild worker thread alive, and Node 20 cannot run TypeScript itself).
 * `npm run build` builds them all; the launcher, scripts/run-program.mjs,
 * builds one whenever its build is missing or stale, so that a fresh clone
 * and an edited checkout both just work.
 *
 * Pure-JavaScript packages are bundled: loaded from node_modules as dozens
 * of modules (msgpackr; winston and its helpers), they cost each start tens
 * of milliseconds more. The native packages (zeromq, lmdb, msgpackr's
 * optional extension) stay outside, loaded from node_modules, and so do the
 * interactive client's prompts, which load only when the interactive client
 * runs (a chunk of their own), so that a one-shot command does not pay for
 * them.
 *
 * Each build goes to a new folder and the manifest (scripts/build-manifest.mjs)
 * is replaced by a rename, so that launchers running at the same time never
 * load half a build.
 */
import { build } from "esbuild";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { withLock } from "./build-lock.mjs";
import { buildsDirOf, currentBuildEntry, entryFile, manifestPathOf, projectRoot } from "./build-manifest.mjs";

/** A superseded build older than this is deleted: no launcher still loads from it by then. */
const oldBuildAgeMs = 60_000;

/** Besides the bundle's inputs, a change to these makes a build stale. */
const buildScripts = ["scripts/build-program.mjs", "scripts/build-manifest.mjs", "scripts/programs.json"];

/** Program name to the source file it starts from. */
const programs = JSON.parse(readFileSync(join(projectRoot, "scripts", "programs.json"), "utf8"));

/**
 * Bundled CommonJS packages (winston's) require Node's built-in modules,
 * which an ES module can do only through a `require` of its own.
 */
const requireShim = 'import { createRequire as zraftCreateRequire } from "node:module"; const require = zraftCreateRequire(import.meta.url);';

/**
 * The entry module of the current build of `program`, building it first
 * when it is missing or stale; launchers that find it stale together build
 * it once.
 */
export async function currentOrNewBuild(program) {
  // An unknown name is refused before a folder is made for it.
  sourceOf(program);
  mkdirSync(buildsDirOf(program), { recursive: true });
  return withLock(join(buildsDirOf(program), "build.lock"), async () => currentBuildEntry(program) ?? buildProgram(program));
}

/**
 * Builds `program` and makes it the current build.
 * @returns the path of the build's entry module
 */
export async function buildProgram(program) {
  const source = sourceOf(program);
  const startedMs = Date.now();
  const id = `build-${startedMs.toString(36)}-${randomBytes(4).toString("hex")}`;
  const buildsDir = buildsDirOf(program);
  const outdir = join(buildsDir, id);
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: { main: source },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["zeromq", "lmdb", "msgpackr-extract", "@inquirer/prompts"],
    banner: { js: requireShim },
    metafile: true,
    logLevel: "silent",
  });
  const sources = {};
  for (const path of [...Object.keys(result.metafile.inputs), ...buildScripts]) {
    const mtimeMs = statSync(join(projectRoot, path)).mtimeMs;
    // A file changed while the build read it may not be in the build as it is now: an impossible time makes the next start build again.
    sources[path] = mtimeMs >= startedMs ? -1 : mtimeMs;
  }
  const manifestPath = manifestPathOf(program);
  const temporary = `${manifestPath}.${id}`;
  writeFileSync(temporary, `${JSON.stringify({ build: id, sources }, null, 1)}\n`);
  renameSync(temporary, manifestPath);
  removeOldBuilds(buildsDir, id);
  return join(outdir, entryFile);
}

function sourceOf(program) {
  if (!Object.hasOwn(programs, program)) throw new Error(`no program "${program}" (scripts/programs.json names ${Object.keys(programs).join(", ")})`);
  return programs[program];
}

function removeOldBuilds(buildsDir, current) {
  for (const entry of readdirSync(buildsDir)) {
    if (!entry.startsWith("build-") || entry === current) continue;
    const path = join(buildsDir, entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > oldBuildAgeMs) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another build meanwhile.
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(programs);
  for (const name of names) process.stdout.write(`built ${name}: ${await buildProgram(name)}\n`);
}
