/**
 * The members' client endpoints, as a configuration carries them in its
 * `context` (docs/architecture.md §9): the core keeps the context opaque,
 * and the servers put there what clients need to reach each member. JSON,
 * `{"<id>": "<client endpoint>"}`.
 *
 * A configuration comes through the log from a leader, and whatever sent it
 * may be a forger: a context is read defensively, keeping only the entries
 * with a valid id and a valid endpoint.
 */
import type { ClusterConfig } from "./cluster-config.ts";
import { isEndpoint } from "./endpoint.ts";

const idPattern = /^[1-9]\d{0,14}$/;

/** The context for `endpoints`, in id order. */
export function encodeMemberEndpoints(endpoints: ReadonlyMap<number, string>): string {
  const byId = [...endpoints].sort(([a], [b]) => a - b);
  return JSON.stringify(Object.fromEntries(byId.map(([id, endpoint]) => [String(id), endpoint])));
}

/** The endpoints a context names; what is not a server id with an endpoint is left out, and a context that is no JSON object names none. */
export function decodeMemberEndpoints(context: string): Map<number, string> {
  const endpoints = new Map<number, string>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(context);
  } catch {
    return endpoints;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return endpoints;
  for (const [key, value] of Object.entries(parsed)) {
    if (idPattern.test(key) && isEndpoint(value)) endpoints.set(Number(key), value);
  }
  return endpoints;
}

/** The config file's endpoints, with those a configuration's context names taking their place: the cluster's word is the latest. */
export function memberEndpoints(config: ClusterConfig, context: string): Map<number, string> {
  return new Map([...config.servers.map((server) => [server.id, server.client] as const), ...decodeMemberEndpoints(context)]);
}

/**
 * The first configuration of a cluster (docs/protocol.md §2): every server
 * of the config file a voter, with its endpoint. Only a server whose
 * storage is new uses it; later configurations live in the log and in
 * snapshots.
 */
export function seedMembership(config: ClusterConfig): { readonly voters: readonly number[]; readonly learners: readonly number[]; readonly context: string } {
  const endpoints = new Map(config.servers.map((server) => [server.id, server.client]));
  return { voters: [...endpoints.keys()], learners: [], context: encodeMemberEndpoints(endpoints) };
}
