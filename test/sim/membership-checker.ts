import { decodeMembership, type Entry, type LogIndex, type Membership, type Message, type NodeId, type NodeStatus, type Term } from "../../src/raft/index.ts";
import { describeEntry, type SafetyChecker, type ServerDisk, type ViolationReporter } from "./checkers.ts";
import type { DurableLog } from "./durable-log.ts";

const majority = (voters: number): number => Math.floor(voters / 2) + 1;

const describeMembership = ({ voters, learners }: Membership): string =>
  `voters ${voters.join(",") || "none"}${learners.length === 0 ? "" : `, learners ${learners.join(",")}`}`;

/**
 * The rules of membership changes (Raft dissertation ch. 4), checked after
 * every event as the safety checkers are. The configuration in force at a
 * position of the log is read from the history the SafetyChecker keeps (the
 * latest configuration entry at or before it, §4.1), not from the cores:
 *
 * - Single-server changes (§4.1): two successive configurations in any log
 *   differ by one voter at most, so that a majority of the one and a
 *   majority of the other always share a server.
 * - One change at a time (§4.1): a leader appends a configuration entry
 *   only once the one before it is committed, and once it committed an
 *   entry of its own term (the correction to single-server changes: a
 *   configuration of an earlier leader may be in flight until then).
 * - Commit quorum (§4.1, §4.2.1): a leader commits an entry only once a
 *   majority of the voters of the latest configuration in its log store it;
 *   learners count for nothing.
 * - Only voters campaign (§4.2.1): a server asks for no vote, nor pre-vote,
 *   unless the latest configuration in its log makes it a voter, or that
 *   configuration removed it as a voter and is not committed in its log
 *   (src/raft/raft.ts, standsForElection: it may hold entries the others
 *   lack, and then nobody else can win).
 */
export class MembershipChecker {
  private readonly decoded = new WeakMap<Entry, Membership>();
  /** Each server's commit index when last checked, so that each advance of a leader's is checked once. */
  private readonly commitIndexes = new Map<NodeId, LogIndex>();

  constructor(
    /** The configuration at the log's start, before any configuration entry. */
    private readonly seed: Membership,
    private readonly history: SafetyChecker,
    private readonly report: ViolationReporter,
  ) {}

  /** The configuration in force at position (index, term) of the history; undefined where the history cannot be followed. */
  configurationAt(index: LogIndex, term: Term): Membership | undefined {
    const entry = this.history.configEntryAt(index, term);
    return entry === undefined ? undefined : entry === null ? this.seed : this.membershipOf(entry);
  }

  private membershipOf(entry: Entry): Membership {
    let membership = this.decoded.get(entry);
    if (membership === undefined) {
      const decoded = decodeMembership(entry.data);
      if (typeof decoded === "string") return this.report("single-server change", `${describeEntry(entry)} holds no configuration: ${decoded}`);
      membership = decoded;
      this.decoded.set(entry, membership);
    }
    return membership;
  }

  /**
   * A server stored `entries`; `durable` is its log after the save, and
   * `status` its state when it made the Ready (a leader's own entries are
   * those of its term).
   */
  checkPersisted(status: NodeStatus, durable: DurableLog, entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.type !== "config") continue;
      const before = this.history.configEntryAt(entry.index - 1, durable.term(entry.index - 1)!);
      if (before === undefined) continue;
      const previous = before === null ? this.seed : this.membershipOf(before);
      const next = this.membershipOf(entry);
      const changed = [...previous.voters.filter((id) => !next.voters.includes(id)), ...next.voters.filter((id) => !previous.voters.includes(id))];
      if (changed.length > 1) {
        this.report(
          "single-server change",
          `node ${status.id} stored ${describeEntry(entry)}, which changes voters ${changed.join(",")} at once: ` +
            `from ${describeMembership(previous)} (${before === null ? "the seed" : `entry ${before.index}`}) to ${describeMembership(next)}`,
        );
      }
      if (status.role === "leader" && entry.term === status.term) this.checkOneAtATime(status, durable, entry, before);
    }
  }

  private checkOneAtATime(status: NodeStatus, durable: DurableLog, entry: Entry, before: Entry | null): void {
    const leader = `node ${status.id}, leader of term ${status.term}, appended ${describeEntry(entry)}`;
    if (before !== null && before.index > status.commitIndex) {
      this.report("one change at a time", `${leader} while the configuration entry before it, ${describeEntry(before)}, was not committed (its commit index: ${status.commitIndex})`);
    }
    const termAtCommit = durable.term(status.commitIndex) ?? this.history.committedEntry(status.commitIndex)?.term;
    if (termAtCommit !== status.term) {
      this.report("one change at a time", `${leader} before it committed an entry of its term (its commit index ${status.commitIndex} is of term ${termAtCommit ?? "?"})`);
    }
  }

  /**
   * After an event at server `status.id`: a leader's commit index that went
   * up must be at an entry (of term `entryTerm` in its log) that a majority
   * of the voters of the latest configuration in its log store (a server
   * whose log starts past it holds it in its snapshot).
   */
  checkCommit(status: NodeStatus, entryTerm: Term | undefined, disk: (id: NodeId) => ServerDisk): void {
    const index = status.commitIndex;
    const before = this.commitIndexes.get(status.id) ?? 0;
    this.commitIndexes.set(status.id, index);
    if (status.role !== "leader" || index <= before || entryTerm === undefined) return;
    const configuration = this.configurationAt(status.lastLogIndex, status.lastLogTerm);
    if (configuration === undefined) return;
    const holders = configuration.voters.filter((id) => {
      const { durable } = disk(id);
      return durable.start.index >= index || durable.term(index) === entryTerm;
    });
    if (holders.length < majority(configuration.voters.length)) {
      this.report(
        "commit quorum",
        `node ${status.id}, leader of term ${status.term}, committed entry (${index},${entryTerm}), which ${holders.length === 0 ? "no voter stores" : `only voters ${holders.join(",")} store`} ` +
          `of the latest configuration in its log (${describeMembership(configuration)})`,
      );
    }
  }

  /**
   * `messages` leave server `status.id`: any vote it asks for, it asks as a
   * voter of the latest configuration in its log, or as a voter of the one
   * before whose removal is not committed.
   */
  checkSent(status: NodeStatus, messages: readonly Message[]): void {
    const request = messages.find((message) => message.type === "RequestVote" || message.type === "PreVote");
    if (request === undefined) return;
    const entry = this.history.configEntryAt(status.lastLogIndex, status.lastLogTerm);
    if (entry === undefined) return;
    const configuration = entry === null ? this.seed : this.membershipOf(entry);
    if (configuration.voters.includes(status.id) || (entry !== null && entry.index > status.commitIndex && this.wasVoterBefore(entry, status.id))) return;
    this.report(
      "election rules",
      `node ${status.id} sent ${request.type} for term ${request.term}, but the latest configuration in its log (${describeMembership(configuration)}) ` +
        `makes it no voter: only voters stand for election (§4.2.1), and a voter whose removal is not committed`,
    );
  }

  /** Whether `id` is a voter of the configuration configuration entry `entry` replaced (true where the history cannot tell). */
  private wasVoterBefore(entry: Entry, id: NodeId): boolean {
    const before = this.history.configEntryBefore(entry);
    if (before === undefined) return true;
    return (before === null ? this.seed : this.membershipOf(before)).voters.includes(id);
  }
}
