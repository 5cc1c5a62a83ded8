/**
 * The entry of the `zraft` command (zraft.ts): what bin/zraft.mjs runs,
 * compiled, and `npm run client --` too. With a command it runs it once;
 * without one it starts the interactive client (interactive.ts).
 */
import { runZraftProcess } from "./zraft.ts";

runZraftProcess(process.argv.slice(2));
