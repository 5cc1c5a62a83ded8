import type { AppendEntries, Message, NodeId } from "../raft/index.ts";

/** One publish: a message to one server, or one AppendEntries to every peer at once. */
export type PlannedSend =
  | { readonly kind: "unicast"; readonly message: Message }
  | { readonly kind: "multicast"; readonly message: AppendEntries; readonly receivers: readonly NodeId[] };

/**
 * How to publish one batch of a server's messages. A leader whose followers
 * all stand at the same point of its log sends each of them the same
 * AppendEntries but for `to`; those go out once, as a multicast
 * (peer-codec.ts), which saves the forwarder all but one of its relays and
 * the leader all but one of its sends: on one client's writes, most of the
 * time a write takes is these hand-offs between processes.
 *
 * Only a set of identical AppendEntries that reaches every one of `peers`
 * becomes a multicast, so that no server receives a message that is not for
 * it. The multicast takes the place of the first of them; should that move
 * any peer's messages out of the order the core gave them (never seen: the
 * core sends each follower its messages in turn), the batch goes out as
 * unicasts, since a follower handed a later AppendEntries first rejects it
 * and sends the leader back to probing (§5.3).
 */
export function planSends(messages: readonly Message[], peers: ReadonlySet<NodeId>): readonly PlannedSend[] {
  const unicasts = (): PlannedSend[] => messages.map((message) => ({ kind: "unicast", message }));
  if (peers.size < 2 || messages.length < peers.size) return unicasts();
  const groups = identicalAppends(messages);
  const full = groups.filter((group) => reachesExactly(group, messages, peers));
  if (full.length === 0) return unicasts();
  // Where each message leaves: a multicast's members all leave at its first member's place.
  const place = messages.map((_, i) => i);
  for (const group of full) for (const i of group) place[i] = group[0]!;
  if (!keepsEachReceiversOrder(messages, place)) return unicasts();
  const fullAt = new Map(full.map((group) => [group[0]!, group]));
  const plan: PlannedSend[] = [];
  messages.forEach((message, i) => {
    const group = fullAt.get(i);
    if (group !== undefined) plan.push({ kind: "multicast", message: message as AppendEntries, receivers: group.map((j) => messages[j]!.to) });
    else if (place[i] === i) plan.push({ kind: "unicast", message });
  });
  return plan;
}

/** The indexes of the AppendEntries of `messages`, grouped by sameButReceiver; at most one message per receiver in a group. */
function identicalAppends(messages: readonly Message[]): number[][] {
  const groups: number[][] = [];
  messages.forEach((message, i) => {
    if (message.type !== "AppendEntries") return;
    const group = groups.find((candidate) => {
      const first = messages[candidate[0]!] as AppendEntries;
      return sameButReceiver(first, message) && candidate.every((j) => messages[j]!.to !== message.to);
    });
    if (group !== undefined) group.push(i);
    else groups.push([i]);
  });
  return groups;
}

/**
 * Whether two AppendEntries differ in nothing but `to`. Entries are compared
 * as objects: the leader's messages of one batch share the entries of its
 * log's tail, and entries read back from storage for a follower far behind
 * are new objects, which then simply go out alone.
 */
function sameButReceiver(a: AppendEntries, b: AppendEntries): boolean {
  return (
    a.from === b.from &&
    a.term === b.term &&
    a.prevLogIndex === b.prevLogIndex &&
    a.prevLogTerm === b.prevLogTerm &&
    a.leaderCommit === b.leaderCommit &&
    a.readRound === b.readRound &&
    a.entries.length === b.entries.length &&
    a.entries.every((entry, i) => entry === b.entries[i])
  );
}

function reachesExactly(group: readonly number[], messages: readonly Message[], peers: ReadonlySet<NodeId>): boolean {
  return group.length === peers.size && group.every((i) => peers.has(messages[i]!.to));
}

/** Whether leaving from `place` keeps every receiver's messages in their order in `messages`. */
function keepsEachReceiversOrder(messages: readonly Message[], place: readonly number[]): boolean {
  const lastPlace = new Map<NodeId, number>();
  for (let i = 0; i < messages.length; i++) {
    const to = messages[i]!.to;
    if ((lastPlace.get(to) ?? -1) >= place[i]!) return false;
    lastPlace.set(to, place[i]!);
  }
  return true;
}
