import { execFile } from "node:child_process";
import { createRequire } from "node:module";

/**
 * Opens an existing LMDB environment read-only and reads every record, in a
 * throwaway child process, before the server opens it in its own.
 *
 * Why a separate process: a data file that cannot be trusted must be refused
 * with an error, but in-process it would kill the server with a signal
 * instead. lmdb-js 3.5.6 frees its environment twice when mdb_env_open fails
 * (src/env.cpp: openEnv deletes the ExtendedEnv, then closeEnv deletes it
 * again), so a file LMDB rejects ends in SIGSEGV; and LMDB trusts its pages,
 * so a corrupt one can fault (SIGSEGV/SIGBUS) on first read.
 */

// Plain CommonJS, run by plain node: it must not depend on the TypeScript loader.
const probeScript = `
const [lmdbEntry, directory] = process.argv.slice(1);
try {
  const { open } = require(lmdbEntry);
  const db = open({ path: directory, readOnly: true, noSubdir: false, encoding: "binary" });
  let bytes = 0;
  for (const { value } of db.getRange()) bytes += value.length;
  db.close();
  process.stdout.write("read " + bytes + " bytes\\n");
} catch (error) {
  process.stderr.write(String(error && error.message ? error.message : error).split("\\n")[0] + "\\n");
  process.exit(1);
}
`;

const probeTimeoutMs = 120_000;
const lmdbEntry = createRequire(import.meta.url).resolve("lmdb");

/** Resolves to null when LMDB can read the whole environment, else to what went wrong (one line). */
export function probeLmdbEnvironment(directory: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-e", probeScript, lmdbEntry, directory],
      { timeout: probeTimeoutMs, killSignal: "SIGKILL" },
      (error, _stdout, stderr) => {
        if (error === null) resolve(null);
        else if (error.killed) resolve(`reading it with LMDB took over ${probeTimeoutMs} ms`);
        else if (error.signal !== null && error.signal !== undefined) {
          resolve(`LMDB crashed (${error.signal}) reading it: the data file is corrupt`);
        } else resolve(`LMDB cannot read it (${stderr.trim() || `exit code ${String(error.code)}`})`);
      },
    );
  });
}
