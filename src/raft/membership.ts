import { assert } from "../base/assert.ts";
import type { LogIndex, NodeId } from "./types.ts";

/**
 * Who is in the cluster (Raft dissertation ch. 4): the voters, whose
 * majority commits entries and elects leaders, and the learners, which
 * receive the log but neither vote nor count (§4.2.1: a new server catches
 * up before it can hold back commitment). `context` is the runtime's, opaque
 * here: what it needs to reach each member (client endpoints).
 */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly context: string;
}

/**
 * One single-server change (dissertation §4.1): any two majorities of the
 * configurations before and after overlap, so the change needs no joint
 * consensus. A new server joins as a learner and is promoted once it has
 * caught up.
 */
export type MembershipChange =
  | { readonly kind: "add-learner"; readonly id: NodeId; readonly context: string }
  | { readonly kind: "promote"; readonly id: NodeId }
  | { readonly kind: "remove"; readonly id: NodeId; readonly context: string };

const isMember = (membership: Membership, id: NodeId): boolean => membership.voters.includes(id) || membership.learners.includes(id);

/** What makes `change` impossible from `membership`, or null. */
export function membershipChangeProblem(membership: Membership, change: MembershipChange): string | null {
  const { id } = change;
  switch (change.kind) {
    case "add-learner":
      return isMember(membership, id) ? `server ${id} is already a member` : null;
    case "promote":
      return membership.learners.includes(id) ? null : `server ${id} is not a learner`;
    case "remove":
      if (!isMember(membership, id)) return `server ${id} is not a member`;
      return membership.voters.length === 1 && membership.voters[0] === id ? `server ${id} is the last voter` : null;
  }
}

/** `membership` after `change`, which membershipChangeProblem allowed. */
export function applyMembershipChange(membership: Membership, change: MembershipChange): Membership {
  const { id } = change;
  const without = (ids: readonly NodeId[]): NodeId[] => ids.filter((member) => member !== id);
  switch (change.kind) {
    case "add-learner":
      return { voters: membership.voters, learners: [...membership.learners, id], context: change.context };
    case "promote":
      return { voters: [...membership.voters, id], learners: without(membership.learners), context: membership.context };
    case "remove":
      return { voters: without(membership.voters), learners: without(membership.learners), context: change.context };
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A configuration entry's data (dissertation §4.1: configurations travel in the log as entries). */
export function encodeMembership(membership: Membership): Uint8Array {
  return encoder.encode(JSON.stringify({ voters: membership.voters, learners: membership.learners, context: membership.context }));
}

const isIdList = (value: unknown): value is NodeId[] =>
  Array.isArray(value) && value.every((id) => Number.isSafeInteger(id) && (id as number) >= 1) && new Set(value).size === value.length;

/**
 * The membership in a configuration entry's data, or what is wrong with it.
 * Entries arrive from peers: anything may be there.
 */
export function decodeMembership(data: Uint8Array): Membership | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    return "a configuration entry that is not JSON";
  }
  if (typeof parsed !== "object" || parsed === null) return "a configuration entry that is not an object";
  const { voters, learners, context } = parsed as Record<string, unknown>;
  if (!isIdList(voters) || voters.length === 0) return "a configuration entry whose voters are not a non-empty list of distinct server ids";
  if (!isIdList(learners) || learners.some((id) => voters.includes(id))) return "a configuration entry whose learners are not distinct server ids apart from the voters";
  if (typeof context !== "string") return "a configuration entry without its context";
  return { voters, learners, context };
}

/**
 * The configurations the log holds, by index (dissertation §4.1: a server
 * uses the latest configuration in its log, committed or not, so a
 * truncated suffix takes its configuration entries with it). The first is
 * the base: the configuration at the log's start (the seed, or the
 * snapshot's), which never leaves.
 */
export class MembershipLog {
  private readonly configs: { readonly index: LogIndex; readonly membership: Membership }[];

  constructor(base: Membership, baseIndex: LogIndex) {
    this.configs = [{ index: baseIndex, membership: base }];
  }

  current(): Membership {
    return this.configs.at(-1)!.membership;
  }

  /** The configuration the latest entry replaced (the base itself when the log holds no configuration entry). */
  previous(): Membership {
    return this.configs.at(-2)?.membership ?? this.configs[0]!.membership;
  }

  /** The index of the latest configuration entry (the base's index when there is none). */
  currentIndex(): LogIndex {
    return this.configs.at(-1)!.index;
  }

  /** The configuration in force at `index`: the latest at or below it. */
  at(index: LogIndex): Membership {
    for (let i = this.configs.length - 1; i > 0; i--) if (this.configs[i]!.index <= index) return this.configs[i]!.membership;
    return this.configs[0]!.membership;
  }

  appended(index: LogIndex, membership: Membership): void {
    assert(index > this.currentIndex(), `a configuration at ${index} after the one at ${this.currentIndex()}`);
    this.configs.push({ index, membership });
  }

  /** Entries from `index` on left the log. */
  truncateFrom(index: LogIndex): void {
    while (this.configs.length > 1 && this.configs.at(-1)!.index >= index) this.configs.pop();
  }

  /** The log now starts after `index`: the configuration in force there becomes the base. */
  compactTo(index: LogIndex): void {
    const base = this.at(index);
    const later = this.configs.slice(1).filter((config) => config.index > index);
    this.configs.splice(0, this.configs.length, { index, membership: base }, ...later);
  }

  /** The log was replaced by a snapshot up to `index` whose configuration is `membership`. */
  reset(membership: Membership, index: LogIndex): void {
    this.configs.length = 0;
    this.configs.push({ index, membership });
  }
}
