import type { Membership, NodeId } from "../raft/index.ts";

const idList = (ids: readonly NodeId[]): string => [...ids].sort((a, b) => a - b).join(",");

/**
 * The configuration in force, as the server logs it whenever it changes
 * (dissertation §4.1): "configuration: voters 1,2,3,4; learners 5", and
 * where this server stands when it is not a voter.
 */
export function describeMembership({ voters, learners }: Membership, self: NodeId): string {
  if (voters.length === 0) return "configuration: none yet; waiting for the leader to add this server (zraft add, docs/protocol.md §4)";
  const members = `voters ${idList(voters)}${learners.length === 0 ? "" : `; learners ${idList(learners)}`}`;
  if (voters.includes(self)) return `configuration: ${members}`;
  const standing = learners.includes(self) ? "this server is a learner until it has caught up" : "this server is not a member";
  return `configuration: ${members}; ${standing}`;
}
