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
