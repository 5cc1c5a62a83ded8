/**
 * `zraft status` and `zraft leader`: every server of the config, and every
 * member the servers' configurations name besides, asked for its status at
 * once (docs/protocol.md §5), shown as one table, or as JSON; and one
 * server's status as a line.
 */
import type { ClusterConfig, ServerConfig } from "../src/config/cluster-config.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import { ZraftClient, type StatusReply } from "../src/client/zraft-client.ts";
import { ZraftError } from "../src/protocol/errors.ts";
import type { MemberInfo } from "../src/protocol/reply-fields.ts";

/** How long each server gets to answer. */
const statusTimeoutMs = 500;

/** A server that answered, or one that did not: `code` the protocol's (TIMEOUT when silent) or ERROR, `down` the reason. */
export type ServerView =
  | { readonly server: ServerConfig; readonly status: StatusReply }
  | { readonly server: ServerConfig; readonly down: string; readonly code: string };

/** Every server's status asked through `client`, at once, in config order. */
function surveyServers(client: ZraftClient, servers: readonly ServerConfig[]): Promise<ServerView[]> {
  return Promise.all(
    servers.map(async (server): Promise<ServerView> => {
      try {
        return { server, status: await client.status(server.id, { timeoutMs: statusTimeoutMs }) };
      } catch (error) {
        return { server, down: error instanceof Error ? error.message : String(error), code: error instanceof ZraftError ? error.code : "ERROR" };
      }
    }),
  );
}

/**
 * Every server's status, with a client of its own: the config's servers,
 * then the members their configurations name that the config does not
 * list (servers added since it was written), at the endpoints the
 * configurations carry.
 */
export async function surveyCluster(config: ClusterConfig, curve: CurveClientKeys | undefined): Promise<ServerView[]> {
  const listed = await survey(config, curve);
  const added = new Map<number, ServerConfig>();
  for (const view of listed) {
    if (!("status" in view)) continue;
    for (const { id, client } of view.status.members) {
      if (client !== null && !config.servers.some((server) => server.id === id)) added.set(id, { id, client });
    }
  }
  if (added.size === 0) return listed;
  const servers = [...added.values()].sort((a, b) => a.id - b.id);
  return [...listed, ...(await survey({ ...config, servers: [...config.servers, ...servers] }, curve, servers))];
}

async function survey(config: ClusterConfig, curve: CurveClientKeys | undefined, servers = config.servers): Promise<ServerView[]> {
  const client = new ZraftClient({ config, ...(curve === undefined ? {} : { curve }) });
  try {
    return await surveyServers(client, servers);
  } finally {
    client.close();
  }
}

/** The leader most servers that answer agree on, in the highest term any of them knows. */
export function leaderOf(views: readonly ServerView[]): { readonly id: number; readonly term: number } | null {
  const statuses = views.flatMap((view) => ("status" in view ? [view.status] : []));
  const term = Math.max(-1, ...statuses.filter((status) => status.leaderId !== null).map((status) => status.term));
  const named = statuses.find((status) => status.term === term && status.leaderId !== null);
  return named?.leaderId === undefined || named.leaderId === null ? null : { id: named.leaderId, term };
}

/** The leader's own status, and where it takes clients (surveyCluster: also a leader the config does not list); a sentence when there is none to ask. */
export async function leaderStatus(
  config: ClusterConfig,
  curve: CurveClientKeys | undefined,
): Promise<{ readonly server: ServerConfig; readonly status: StatusReply } | string> {
  const views = await surveyCluster(config, curve);
  const leader = leaderOf(views);
  if (leader === null) return `no leader is known: ${views.filter((view) => "status" in view).length} of ${views.length} servers answer`;
  const view = views.find((candidate) => candidate.server.id === leader.id);
  if (view === undefined) return `server ${leader.id} leads term ${leader.term}, but no server says where it takes clients`;
  return "status" in view ? { server: view.server, status: view.status } : `server ${leader.id} leads term ${leader.term}, but does not answer: ${view.down}`;
}

/** The ids of the voters (or the learners) of a configuration, in id order: "1,2,3". */
export const memberIds = (members: readonly MemberInfo[], voters: boolean): string =>
  members
    .filter((member) => member.voter === voters)
    .map((member) => member.id)
    .sort((a, b) => a - b)
    .join(",");

/** A configuration in a few words: "voters 1,2,3; learners 6", or none (a server waiting to be added). */
export function configurationText(members: readonly MemberInfo[]): string {
  if (members.length === 0) return "no configuration yet";
  const learners = memberIds(members, false);
  return `voters ${memberIds(members, true)}${learners === "" ? "" : `; learners ${learners}`}`;
}

/** One server's status as a line for a person, with the configuration it runs. */
export function statusLine(status: StatusReply): string {
  const leader = status.leaderId === null ? "unknown" : `server ${status.leaderId}`;
  return (
    `server ${status.id} (pid ${status.pid}): ${status.role}, term ${status.term}, leader ${leader}, ` +
    `commit ${status.commitIndex}, applied ${status.lastApplied}, last log ${status.lastLogIndex}, ` +
    `snapshot ${status.snapshotIndex === 0 ? "none" : `up to ${status.snapshotIndex}`}; ${configurationText(status.members)}`
  );
}

const formatUptime = (ms: number): string => {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 120 ? `${minutes}m${seconds % 60}s` : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
};

/** The table a person reads: one row per server, where its snapshot ends, how far each follower's log is behind the leader's. */
export function statusTable(views: readonly ServerView[]): string {
  const leader = leaderOf(views);
  const leaderView = views.find((view) => "status" in view && view.status.id === leader?.id);
  const leaderLast = leaderView !== undefined && "status" in leaderView ? leaderView.status.lastLogIndex : null;
  const header = ["SERVER", "STATE", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST LOG", "SNAPSHOT", "BEHIND", "PID", "UPTIME"];
  const rows = views.map((view): string[] => {
    if (!("status" in view)) return [String(view.server.id), "down", ...header.slice(2).map(() => "-")];
    const { status } = view;
    const behind = status.role === "leader" || leaderLast === null ? "-" : String(Math.max(0, leaderLast - status.lastLogIndex));
    return [
      String(status.id),
      "up",
      status.role,
      String(status.term),
      status.leaderId === null ? "none" : String(status.leaderId),
      String(status.commitIndex),
      String(status.lastApplied),
      String(status.lastLogIndex),
      status.snapshotIndex === 0 ? "-" : String(status.snapshotIndex),
      behind,
      String(status.pid),
      formatUptime(status.uptimeMs),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] as number)).join("  ").trimEnd();
  const up = views.filter((view) => "status" in view).length;
  const summary = leader === null ? `no leader known; ${up} of ${views.length} servers answer` : `server ${leader.id} leads term ${leader.term}; ${up} of ${views.length} servers answer`;
  return [line(header), ...rows.map(line), summary].join("\n");
}

/** The survey as one JSON object, for scripts. */
export function statusJson(views: readonly ServerView[]): unknown {
  return {
    leader: leaderOf(views),
    servers: views.map((view) => ("status" in view ? { ...view.status, endpoint: view.server.client, up: true } : { id: view.server.id, endpoint: view.server.client, up: false, error: view.down })),
  };
}
