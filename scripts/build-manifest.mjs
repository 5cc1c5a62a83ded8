/**
 * Where each program's build lives and whether it is current, for the
 * launcher (scripts/run-program.mjs), which must decide quickly at every
 * start, and for the build itself (scripts/build-program.mjs). Plain
 * JavaScript: it runs before anything is compiled.
 *
 * dist/<program>/build-<id>/ holds one build of a program named in
 * scripts/programs.json; dist/<program>/manifest.json names the current one
 * and the modification time of every source file it was built from.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root. */
export const projectRoot = fileURLToPath(new URL("../", import.meta.url));

/** The module a build starts from, inside its folder. */
export const entryFile = "main.js";

/** Where the builds of `program` and their manifest live. */
export function buildsDirOf(program) {
  return join(projectRoot, "dist", program);
}

/** The manifest that names the current build of `program`. */
export function manifestPathOf(program) {
  return join(buildsDirOf(program), "manifest.json");
}

/**
 * The entry module of the current build of `program`, or undefined when
 * there is none or when any source file it was built from has changed or
 * gone since.
 */
export function currentBuildEntry(program) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPathOf(program), "utf8"));
  } catch {
    return undefined;
  }
  for (const [path, mtimeMs] of Object.entries(manifest.sources)) {
    try {
      if (statSync(join(projectRoot, path)).mtimeMs !== mtimeMs) return undefined;
    } catch {
      return undefined;
    }
  }
  return join(buildsDirOf(program), manifest.build, entryFile);
}
