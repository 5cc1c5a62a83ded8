/**
 * `zraft watch [PREFIX] [--from N]` (docs/protocol.md §1, §4 watch): every
 * committed change to keys under PREFIX, one line each in log order, until
 * SIGINT or SIGTERM, like `etcdctl watch --prefix --rev`:
 *
 *   42 put town=Porto        (the value as `get` prints it)
 *   43 delete town
 *
 * With --json, one JSON object per change and line. Each line is written
 * as the change arrives, so a pipe sees it at once. Exit codes: 0 when
 * stopped by a signal; 1 when the watch fails (COMPACTED: the changes at
 * --from are no longer kept; TIMEOUT: no server answers), with one line on
 * stderr. Usage errors are thrown as UsageError (exit 2, zraft.ts).
 */
import { ZraftClient, type WatchEvent } from "../src/client/zraft-client.ts";
import { positiveInteger, shown } from "./cli.ts";
import type { Invocation } from "./command-io.ts";
import { toJsonText } from "./json-text.ts";
import { reportRequestFailure } from "./request-failure.ts";
import { startingPoint } from "./start-server.ts";

const stopSignals = ["SIGINT", "SIGTERM"] as const;

function eventLine(event: WatchEvent): string {
  return event.type === "put" ? `${event.index} put ${event.key}=${shown(event.value)}` : `${event.index} delete ${event.key}`;
}

/**
 * Runs `watch` until a signal stops it, and returns the exit code.
 * @throws UsageError for a bad --from, --server or --endpoints, before anything is sent
 */
export async function runWatchCommand({ operands, args, config, curve, io }: Invocation): Promise<number> {
  const json = args.flags.has("json");
  const from = positiveInteger(args.values.get("from"), "--from");
  const start = startingPoint(args, config);
  const client = new ZraftClient({ config: start.config, serverId: start.serverId, ...(curve === undefined ? {} : { curve }) });
  const stopper = new AbortController();
  const stop = (): void => stopper.abort();
  for (const signal of stopSignals) process.once(signal, stop);
  try {
    for await (const event of client.watch(operands[0] ?? "", { ...(from === undefined ? {} : { from }), signal: stopper.signal })) {
      io.stdout.write(`${json ? toJsonText(event) : eventLine(event)}\n`);
    }
    return 0;
  } catch (error) {
    return reportRequestFailure(error, json, curve !== undefined, io);
  } finally {
    for (const signal of stopSignals) process.off(signal, stop);
    client.close();
  }
}
