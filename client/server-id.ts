import { UsageError } from "../src/cli/args.ts";
import type { ClusterConfig, ServerConfig } from "../src/config/cluster-config.ts";

/**
 * The config's server whose id `idText` gives (from the command line, as
 * `what`: "--server", "transfer" …).
 * @throws UsageError when it is not the id of one of the config's servers
 */
export function configServer(idText: string, config: ClusterConfig, what: string): ServerConfig {
  const server = config.servers.find((candidate) => /^\d+$/.test(idText) && candidate.id === Number(idText));
  if (server === undefined) throw new UsageError(`${what} ${idText}: the config has no such server (ids: ${config.servers.map((s) => s.id).join(", ")})`);
  return server;
}

/**
 * A server id from the command line that need not be in the config (one to
 * add, or one added since the config was written).
 * @throws UsageError when it is not a positive integer
 */
export function serverIdOf(idText: string, what: string): number {
  if (!/^[1-9]\d{0,8}$/.test(idText)) throw new UsageError(`${what} ${idText}: a server id is a positive integer`);
  return Number(idText);
}
