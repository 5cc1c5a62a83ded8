/**
 * Where the `zraft` command's build lives and whether it is current, for
 * the launcher (bin/zraft.mjs), which must decide quickly at every start,
 * and for the build itself (scripts/build-zraft.mjs). Plain JavaScript:
 * it runs before anything is compiled.
 *
 * dist/zraft/build-<id>/ holds one build; dist/zraft/manifest.json names
 * the current one and the modification time of every source file it was
 * built from.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root. */
export const projectRoot = fileURLToPath(new URL("../", import.meta.url));

/** Where builds and their manifest live. */
export const buildsDir = join(projectRoot, "dist", "zraft");

/** The manifest that names the current build. */
export const manifestPath = join(buildsDir, "manifest.json");

/** The module a build starts from, inside its folder. */
export const entryFile = "main.js";

/**
 * The entry module of the current build, or undefined when there is none or
 * when any source file it was built from has changed or gone since.
 */
export function currentBuildEntry() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
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
  return join(buildsDir, manifest.build, entryFile);
}
