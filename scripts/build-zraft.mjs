/**
 * Builds the `zraft` command (client/main.ts and everything it imports)
 * into plain JavaScript, so that the command starts without compiling
 * TypeScript each time (tsx costs about half a second per start, and Node 20
 * cannot run TypeScript itself). `npm run build` runs this; so does the
 * launcher, bin/zraft.mjs, whenever the build is missing or stale, so that a
 * fresh clone and an edited checkout both just work.
 *
 * The bundle holds msgpackr too: loaded from node_modules as six modules, it
 * costs a one-shot command about 20 ms more. The native packages (zeromq,
 * msgpackr's optional extension) stay outside, loaded from node_modules,
 * and so do the interactive client's prompts, which load only when the
 * interactive client runs (a chunk of their own), so that a one-shot
 * command does not pay for them.
 *
 * Each build goes to a new folder and the manifest (scripts/build-manifest.mjs)
 * is replaced by a rename, so that launchers running at the same time never
 * load half a build.
 */
import { build } from "esbuild";
import { randomBytes } from "node:crypto";
import { readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildsDir, entryFile, manifestPath, projectRoot } from "./build-manifest.mjs";

/** A superseded build older than this is deleted: no launcher still loads from it by then. */
const oldBuildAgeMs = 60_000;

/** Besides the bundle's inputs, a change to these makes a build stale. */
const buildScripts = ["scripts/build-zraft.mjs", "scripts/build-manifest.mjs"];

/**
 * Builds the command and makes it the current build.
 * @returns the path of the build's entry module
 */
export async function buildZraft() {
  const startedMs = Date.now();
  const id = `build-${startedMs.toString(36)}-${randomBytes(4).toString("hex")}`;
  const outdir = join(buildsDir, id);
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: { main: "client/main.ts" },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["zeromq", "msgpackr-extract", "@inquirer/prompts"],
    metafile: true,
    logLevel: "silent",
  });
  const sources = {};
  for (const path of [...Object.keys(result.metafile.inputs), ...buildScripts]) {
    const mtimeMs = statSync(join(projectRoot, path)).mtimeMs;
    // A file changed while the build read it may not be in the build as it is now: an impossible time makes the next start build again.
    sources[path] = mtimeMs >= startedMs ? -1 : mtimeMs;
  }
  const temporary = `${manifestPath}.${id}`;
  writeFileSync(temporary, `${JSON.stringify({ build: id, sources }, null, 1)}\n`);
  renameSync(temporary, manifestPath);
  removeOldBuilds(id);
  return join(outdir, entryFile);
}

function removeOldBuilds(current) {
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
  process.stdout.write(`built ${await buildZraft()}\n`);
}
