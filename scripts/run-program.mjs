/**
 * Runs one of the project's programs (scripts/programs.json) from its
 * compiled build, building it first when it is missing or older than its
 * sources (scripts/build-program.mjs), so that starting costs no TypeScript
 * compile. `node scripts/run-program.mjs PROGRAM [ARG ...]` is how npm's
 * scripts and the local clusters start the server, the forwarder and the
 * launcher; bin/zraft.mjs runs the `zraft` command through it.
 * Plain JavaScript, kept small: it runs on every start.
 */
import { pathToFileURL, fileURLToPath } from "node:url";
import { currentBuildEntry } from "./build-manifest.mjs";

/** Runs `program`; it sees the arguments of this process after process.argv[1]. */
export async function runProgram(program) {
  let entry = currentBuildEntry(program);
  if (entry === undefined) {
    let currentOrNewBuild;
    try {
      ({ currentOrNewBuild } = await import("./build-program.mjs"));
    } catch (error) {
      process.stderr.write(`${program}: not built, and cannot be without esbuild (run npm install): ${error.message}\n`);
      process.exit(1);
    }
    try {
      entry = await currentOrNewBuild(program);
    } catch (error) {
      process.stderr.write(`${program}: cannot build: ${error.message}\n`);
      process.exit(1);
    }
  }
  await import(pathToFileURL(entry).href);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const program = process.argv[2];
  if (program === undefined) {
    process.stderr.write("usage: node scripts/run-program.mjs PROGRAM [ARG ...]\n");
    process.exit(2);
  }
  // The program reads its own arguments from process.argv[2] on, as when node runs it directly.
  process.argv.splice(2, 1);
  await runProgram(program);
}
