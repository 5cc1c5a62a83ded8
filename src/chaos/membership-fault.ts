/**
 * The chaos run's membership fault (Raft dissertation ch. 4): a server,
 * the leader half the time, is removed from the configuration while
 * clients write and other faults come and go; the heal adds it back, as a
 * learner the leader promotes once it has caught up. Each change goes to
 * whichever server leads when it is made, and is tried again while the
 * leadership moves or an earlier change is still being committed.
 */
import { sendAdmin } from "../client/admin-request.ts";
import type { StatusReply } from "../client/zraft-client.ts";
import type { ServerConfig } from "../config/cluster-config.ts";
import type { LocalCluster } from "../local-cluster/local-cluster.ts";

/** How long one change may take to commit, and how many times it is tried. */
const changeTimeoutMs = 3_000;
const attemptsMax = 8;
const retryPauseMs = 250;

type Change = { readonly action: "remove"; readonly target: number } | { readonly action: "add"; readonly target: number; readonly client: string };

/** The server that leads in the highest term any server reports. */
async function leaderOf(cluster: LocalCluster): Promise<StatusReply | undefined> {
  const statuses = [...(await cluster.statuses(300)).values()];
  return statuses.filter((status) => status.role === "leader").sort((a, b) => b.term - a.term)[0];
}

/**
 * Makes `change` at the current leader, again while none is known, the
 * leader moved, or it refused because an earlier change is not committed.
 * Resolves with null once done, or with why it was not.
 */
export async function changeMembership(cluster: LocalCluster, change: Change): Promise<string | null> {
  let why = "no leader was found";
  for (let attempt = 1; attempt <= attemptsMax; attempt++) {
    const leader = await leaderOf(cluster);
    const server = cluster.config.servers.find((candidate) => candidate.id === leader?.id);
    if (server !== undefined) {
      const outcome = await sendAdmin(server, change, { timeoutMs: changeTimeoutMs });
      if (outcome.kind === "done") return null;
      why = outcome.kind === "refused" ? `${outcome.code}: ${outcome.message}` : outcome.message;
      // Nothing to undo: the server is already out, or already in.
      if (outcome.kind === "refused" && /is not a member|is already a member/.test(outcome.message)) return null;
    }
    await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
  }
  return why;
}

/** Adds server `id` back as a learner at `client`; null once done, else why not. */
export function addBack(cluster: LocalCluster, server: ServerConfig): Promise<string | null> {
  return changeMembership(cluster, { action: "add", target: server.id, client: server.client });
}

/** The servers of the config that the leader's configuration leaves out (none when no leader answers). */
export async function serversLeftOut(cluster: LocalCluster): Promise<readonly ServerConfig[]> {
  const leader = await leaderOf(cluster);
  if (leader === undefined) return [];
  const members = new Set(leader.members.map((member) => member.id));
  return cluster.config.servers.filter((server) => !members.has(server.id));
}
