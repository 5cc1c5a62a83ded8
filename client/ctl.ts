/**
 * The controller's entry, kept for scripts that run it by name: the same as
 * `zraft ctl COMMAND`, which is `zraft COMMAND` with messages that start
 * "zraft ctl:" (zraft.ts). `npm run ctl --` goes through bin/zraft.mjs.
 */
import { runZraftProcess } from "./zraft.ts";

runZraftProcess(["ctl", ...process.argv.slice(2)]);
