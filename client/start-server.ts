/**
 * Where a one-shot command starts (`--endpoints`, `--server`), validated as
 * it enters. The client fails over in the order of the config's servers, so
 * `--endpoints` puts the servers it names at the front of that order, in its
 * own order. Nothing is remembered between runs; within one, the client
 * library turns to the leader that a reply names.
 */
import { UsageError, type ParsedArgs } from "../src/cli/args.ts";
import type { ClusterConfig, ServerConfig } from "../src/config/cluster-config.ts";
import { configServer } from "./server-id.ts";

/** The config the client should use (its servers in the order to try them) and the server to try first. */
export interface StartingPoint {
  readonly config: ClusterConfig;
  readonly serverId: number;
}

/** `tcp://HOST:PORT` for `HOST:PORT`; other endpoints as they are. */
const asEndpoint = (text: string): string => (text.includes("://") ? text : `tcp://${text}`);

/** The config's servers that `--endpoints` names, in its order. */
function namedByEndpoints(list: string, config: ClusterConfig): ServerConfig[] {
  const named = list.split(",").map((item) => {
    const endpoint = asEndpoint(item.trim());
    const server = config.servers.find((candidate) => candidate.client === endpoint);
    if (server === undefined) {
      const known = config.servers.map((candidate) => candidate.client).join(", ");
      throw new UsageError(`--endpoints: "${item.trim()}" is not a server of the config (those are ${known}; name another config with --config)`);
    }
    return server;
  });
  return named.filter((server, index) => named.indexOf(server) === index);
}

/**
 * Reads `--endpoints` and `--server`: the first server they name, or the
 * config's first without them.
 * @throws UsageError for a server or endpoint not in the config, or both options at once
 */
export function startingPoint(args: ParsedArgs, config: ClusterConfig): StartingPoint {
  const endpoints = args.values.get("endpoints");
  const idText = args.values.get("server");
  if (endpoints !== undefined && idText !== undefined) throw new UsageError("give --endpoints or --server, not both");
  if (endpoints !== undefined) {
    const named = namedByEndpoints(endpoints, config);
    const servers = [...named, ...config.servers.filter((server) => !named.includes(server))];
    return { config: { ...config, servers }, serverId: (named[0] as ServerConfig).id };
  }
  if (idText === undefined) return { config, serverId: (config.servers[0] as ServerConfig).id };
  return { config, serverId: configServer(idText, config, "--server").id };
}
