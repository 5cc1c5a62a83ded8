/**
 * `zraft backup FILE [--server N]` (docs/architecture.md §8): asks a server
 * (the leader unless --server names one) to snapshot now, fetches its
 * stored snapshot chunk by chunk, checks the image as a server would, and
 * writes FILE whole or not at all, never over an existing file. Exit code
 * 0 when FILE is written, 1 otherwise, with one line saying why.
 */
import { BackupFormatError, encodeBackup, imageCounts, storeChunksOf } from "../src/backup/backup-file.ts";
import { NewFileError, checkNewFile, writeNewFile } from "../src/backup/new-file.ts";
import { sendAdmin } from "../src/client/admin-request.ts";
import type { ServerConfig } from "../src/config/cluster-config.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import { backupContents } from "./backup-contents.ts";
import type { Invocation } from "./command-io.ts";
import { actionTimeoutMs, describeOutcome, leaderServer, takeSnapshot } from "./ctl-admin.ts";
import { configServer } from "./server-id.ts";

/** How often a fetch may find the snapshot replaced under it (the server also snapshots on its own) before giving up. */
const fetchAttemptsMax = 5;

interface Fetched {
  readonly meta: { readonly index: number; readonly term: number };
  readonly chunks: readonly Uint8Array[];
}

/** A backup that cannot be made: the sentence says why. */
class BackupFailed extends Error {
  override readonly name = "BackupFailed";
}

export async function runBackup({ operands, args, config, curve, io }: Invocation): Promise<number> {
  const file = operands[0] as string;
  const serverText = args.values.get("server");
  const named = serverText === undefined ? undefined : configServer(serverText, config, "--server");
  try {
    checkNewFile(file);
    const server = named ?? (await leader(config, curve));
    const snapshot = await takeSnapshot(server, curve);
    if (snapshot.kind !== "done") throw new BackupFailed(`server ${server.id} took no snapshot: ${describeOutcome(snapshot)}`);
    const fetched = await fetchSnapshot(server, curve);
    const { meta } = fetched;
    // The store's image only: the restored cluster runs the membership of its own config.
    const chunks = storeChunksOf(fetched.chunks);
    const { keys } = imageCounts(chunks, meta.index);
    const createdAt = new Date().toISOString();
    writeNewFile(file, encodeBackup({ meta, createdAt, server: server.id }, chunks));
    const bytes = chunks.reduce((total, chunk) => total + chunk.length, 0);
    if (args.flags.has("json")) {
      io.stdout.write(`${JSON.stringify({ ok: true, file, server: server.id, index: meta.index, term: meta.term, chunks: chunks.length, bytes, keys, createdAt })}\n`);
    } else {
      io.stdout.write(`backup of server ${server.id} up to entry ${meta.index} (term ${meta.term}): ${backupContents(bytes, chunks.length, keys)} → ${file}\n`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof BackupFailed || error instanceof NewFileError || error instanceof BackupFormatError)) throw error;
    const line = error instanceof BackupFormatError ? `the snapshot the server sent is unusable, and nothing was written: ${error.message}` : error.message;
    if (args.flags.has("json")) io.stdout.write(`${JSON.stringify({ ok: false, message: line })}\n`);
    io.stderr.write(`${io.program}: backup failed: ${line}\n`);
    return 1;
  }
}

async function leader(config: Invocation["config"], curve: CurveClientKeys | undefined): Promise<ServerConfig> {
  const found = await leaderServer(config, curve);
  if (typeof found === "string") throw new BackupFailed(`${found}; name the server to back up with --server N`);
  return found.server;
}

/**
 * Every chunk of `server`'s stored snapshot, all of one snapshot: when a
 * chunk comes from another one than chunk 0 (a newer snapshot replaced it
 * between two requests), it starts again.
 */
async function fetchSnapshot(server: ServerConfig, curve: CurveClientKeys | undefined): Promise<Fetched> {
  const options = { timeoutMs: actionTimeoutMs, ...(curve === undefined ? {} : { curve }) };
  for (let attempt = 1; attempt <= fetchAttemptsMax; attempt++) {
    const chunks: Uint8Array[] = [];
    let meta: Fetched["meta"] | undefined;
    for (let chunk = 0; ; chunk++) {
      const outcome = await sendAdmin(server, { action: "backup", chunk }, options);
      if (outcome.kind !== "done") throw new BackupFailed(`server ${server.id} did not send chunk ${chunk} of its snapshot: ${describeOutcome(outcome)}`);
      const { reply } = outcome;
      if (reply.chunk !== chunk) throw new BackupFailed(`server ${server.id} broke the protocol: it sent chunk ${reply.chunk} when asked for chunk ${chunk}`);
      meta ??= { index: reply.snapshotIndex, term: reply.snapshotTerm };
      if (reply.snapshotIndex !== meta.index || reply.snapshotTerm !== meta.term) break;
      chunks.push(reply.data);
      if (reply.last) return { meta, chunks };
    }
  }
  throw new BackupFailed(`server ${server.id} replaced its snapshot during each of ${fetchAttemptsMax} attempts to fetch it; retry when it takes fewer writes`);
}
