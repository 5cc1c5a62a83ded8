import type { RaftLog } from "./log.ts";
import { decodeMembership } from "./membership.ts";
import type { AppendEntries, AppendEntriesResponse, LogIndex, NodeId, Term } from "./types.ts";

/**
 * What makes `message` impossible from an honest leader, or null. A forged
 * message that passed the codec's shape checks must not reach the log's
 * assertions (docs/architecture.md §6): Election Safety (§5.2) allows one
 * leader per term, a leader sends at most entriesPerAppendMax entries at
 * once, and Leader Completeness (§5.4) means no leader's log conflicts
 * with a committed entry.
 */
export function forgedAppendProblem(
  message: AppendEntries,
  leaderId: NodeId | null,
  currentTerm: Term,
  log: RaftLog,
  entriesPerAppendMax: number,
): string | null {
  if (leaderId !== null && leaderId !== message.from) {
    return `server ${leaderId} already leads term ${currentTerm}`;
  }
  if (message.entries.length > entriesPerAppendMax) {
    return `it carries ${message.entries.length} entries, more than the ${entriesPerAppendMax} a leader sends at once`;
  }
  for (const entry of message.entries) {
    if (entry.type !== "config") continue;
    const membership = decodeMembership(entry.data);
    if (typeof membership === "string") return `entry ${entry.index} is ${membership}`;
  }
  if (!log.matchTerm(message.prevLogIndex, message.prevLogTerm)) {
    return message.prevLogIndex < log.commitIndex ? `its prevLogTerm conflicts with committed entry ${message.prevLogIndex}` : null;
  }
  const conflict = log.firstConflict(message.entries);
  return conflict !== 0 && conflict <= log.commitIndex ? `it rewrites entry ${conflict}, which is committed` : null;
}

/**
 * Fast log repair (§5.3): if we hold the follower's conflicting term, resume
 * after our last entry of it; otherwise skip the follower's whole term.
 */
export function nextIndexAfterRejection(message: AppendEntriesResponse, matchIndex: LogIndex, log: RaftLog): LogIndex {
  let next = message.conflictIndex;
  if (message.conflictTerm > 0) {
    const last = log.lastIndexOfTerm(message.conflictTerm);
    if (last > 0) next = last + 1;
  }
  return Math.max(matchIndex + 1, Math.min(next, message.rejectedIndex));
}
