/**
 * Seeds a new cluster from a backup, as `etcdctl snapshot restore` does:
 * each server's storage is created holding the backup's snapshot in place
 * of a log, with the snapshot's term as its current term and its index as
 * committed. The backup holds the store only; the snapshot stored takes the
 * new cluster's own first configuration as its core chunk (snapshotImage),
 * so that the restored cluster runs the membership of its config file. Started, the servers restore their state machines from it and
 * elect a leader in the next term; a follower that falls behind later gets
 * the same snapshot by InstallSnapshot.
 *
 * It refuses to touch a data directory that holds anything: a restore makes
 * a cluster, it never overwrites one.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { snapshotImage, type Membership, type NodeId } from "../raft/index.ts";
import { LmdbStorage } from "../storage/lmdb-storage.ts";
import { StorageError } from "../storage/storage-error.ts";
import type { Backup } from "./backup-file.ts";

/** A restore that left nothing written: refused at once, or failed part way and undone. The message says why, for a person. */
export class RestoreError extends Error {
  override readonly name = "RestoreError";
}

/** Where server `id` keeps its storage (LmdbStorage.open's directory). */
export const serverDataDirectory = (dataDir: string, id: NodeId): string => resolve(dataDir, `server-${id}`);

/**
 * Writes `backup` into a new storage for each voter of `membership` (the
 * new cluster's seed, docs/protocol.md §2) under `dataDir`, the snapshot
 * keeping that membership. On a failure part way, removes what it wrote, so
 * that a second attempt finds the directories as the first did.
 * @returns the directories written, in the order of the voters
 * @throws RestoreError when a server's directory already holds something, or a storage cannot be written
 */
export async function restoreBackup(backup: Backup, dataDir: string, membership: Membership): Promise<readonly string[]> {
  const serverIds = membership.voters;
  const directories = serverIds.map((id) => serverDataDirectory(dataDir, id));
  const taken = serverIds.filter((_, i) => entriesOf(directories[i] as string).length > 0).map((id) => `server-${id}`);
  if (taken.length > 0) {
    const names = taken.length === 1 ? taken[0] : `${taken.slice(0, -1).join(", ")} and ${taken.at(-1)}`;
    throw new RestoreError(
      `${names} in ${resolve(dataDir)} already ${taken.length === 1 ? "holds" : "hold"} data; a restore seeds a new cluster and never overwrites one ` +
        "(stop its servers and move those directories away, or give the config another dataDir)",
    );
  }
  const made: string[] = [];
  for (const [i, id] of serverIds.entries()) {
    const directory = directories[i] as string;
    try {
      // Made here, not by LMDB, so that a failure removes exactly the directories this restore made.
      if (!existsSync(directory)) {
        mkdirSync(directory, { recursive: true });
        made.push(directory);
      }
      await install(backup, membership, dataDir, id);
    } catch (error) {
      for (const written of directories) {
        if (made.includes(written)) rmSync(written, { recursive: true, force: true });
        else for (const entry of entriesOf(written)) rmSync(resolve(written, entry), { recursive: true, force: true });
      }
      if (!(error instanceof StorageError) && typeof (error as NodeJS.ErrnoException).code !== "string") throw error;
      throw new RestoreError(`cannot write ${directory}: ${(error as Error).message}`, { cause: error });
    }
  }
  return directories;
}

async function install({ header, chunks }: Backup, membership: Membership, dataDir: string, id: NodeId): Promise<void> {
  const storage = await LmdbStorage.open(dataDir, id);
  try {
    const image = [...snapshotImage(membership, chunks)];
    await storage.save({ currentTerm: header.meta.term, votedFor: null, commitIndex: header.meta.index }, [], { meta: header.meta, chunks: image });
  } finally {
    await storage.close();
  }
}

/** The names in `directory`; none when there is no such directory. */
function entriesOf(directory: string): readonly string[] {
  return existsSync(directory) ? readdirSync(directory) : [];
}
