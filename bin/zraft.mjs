#!/usr/bin/env node
/**
 * The `zraft` command (package.json "bin"; `npm run client --` and
 * `npm run ctl --` run it too). It runs the compiled build of client/main.ts,
 * building it first when it is missing or older than its sources
 * (scripts/build-zraft.mjs), so that starting costs no TypeScript compile.
 * Plain JavaScript, kept small: it runs on every start.
 */
import { pathToFileURL } from "node:url";
import { currentBuildEntry } from "../scripts/build-manifest.mjs";

let entry = currentBuildEntry();
if (entry === undefined) {
  let buildZraft;
  try {
    ({ buildZraft } = await import("../scripts/build-zraft.mjs"));
  } catch (error) {
    process.stderr.write(`zraft: the command is not built, and cannot be without esbuild (run npm install): ${error.message}\n`);
    process.exit(1);
  }
  try {
    entry = await buildZraft();
  } catch (error) {
    process.stderr.write(`zraft: cannot build the command: ${error.message}\n`);
    process.exit(1);
  }
}
await import(pathToFileURL(entry).href);
