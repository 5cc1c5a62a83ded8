/**
 * `zraft restore FILE [--config C]` (docs/architecture.md §8): checks a
 * backup whole, then seeds every server of the configuration with it, as
 * `etcdctl snapshot restore` does; the servers of the configuration are the
 * new cluster's first membership, whatever cluster the backup came from. It talks to no server: the cluster it
 * makes is started afterwards. Exit code 0 when every server's storage is
 * written; 1 when the file is damaged, a data directory holds anything or
 * a storage cannot be written (then nothing is left written); 2 when FILE
 * cannot be read.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "../src/cli/args.ts";
import { BackupFormatError, decodeBackup } from "../src/backup/backup-file.ts";
import { RestoreError, restoreBackup } from "../src/backup/restore.ts";
import type { ClusterConfig } from "../src/config/cluster-config.ts";
import { backupContents } from "./backup-contents.ts";
import { seedMembership } from "../src/config/member-endpoints.ts";
import type { CommandIo } from "./command-io.ts";

/**
 * @param configName the --config operand, for the line that says how to start the cluster; undefined for the built-in one
 * @throws UsageError when FILE cannot be read
 */
export async function runRestore(file: string, config: ClusterConfig, configName: string | undefined, io: CommandIo): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UsageError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    const backup = decodeBackup(bytes);
    const seed = seedMembership(config);
    const directories = await restoreBackup(backup, config.dataDir, seed);
    const { header } = backup;
    io.stdout.write(
      [
        `${file}: backup of server ${header.server} up to entry ${header.meta.index} (term ${header.meta.term}), taken ${header.createdAt}: ` +
          `${backupContents(header.bytes, header.chunks, backup.keys)}; checksum and image verified`,
        `restored it as the data of servers ${seed.voters.join(", ")}:`,
        ...directories.map((directory) => `  ${directory}`),
        `start the cluster: npm start${configName === undefined ? "" : ` -- --config ${configName}`}`,
      ].join("\n") + "\n",
    );
    return 0;
  } catch (error) {
    if (error instanceof BackupFormatError) io.stderr.write(`${io.program}: ${file} cannot be restored: ${error.message}\n`);
    else if (error instanceof RestoreError) io.stderr.write(`${io.program}: nothing was restored: ${error.message}\n`);
    else throw error;
    return 1;
  }
}
