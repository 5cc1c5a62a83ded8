#!/usr/bin/env node
/**
 * The `zraft` command (package.json "bin"; `npm run client --` and
 * `npm run ctl --` run it too): the compiled build of client/main.ts, built
 * first when missing or stale (scripts/run-program.mjs).
 */
import { runProgram } from "../scripts/run-program.mjs";

await runProgram("zraft");
