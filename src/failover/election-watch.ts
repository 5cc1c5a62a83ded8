/**
 * Reads an election off a stream of status observations, after a fault at
 * time 0 to the leader of term `term`: when the first server was seen
 * campaigning (role candidate, or any term above the old one: a server
 * that voted has moved on too), when a server first said it leads in a
 * later term, and when a majority of the cluster first named that leader in
 * that term (the end of "time without leader" in the Raft paper's §9.3 and
 * Figure 16 of its extended version). Pure: the caller feeds observations
 * in the order they arrived.
 */
import type { ServerRole } from "../client/zraft-client.ts";

/** One status reply, with the time it arrived, in ms since the fault. */
export interface StatusObservation {
  readonly atMs: number;
  readonly id: number;
  readonly role: ServerRole;
  readonly term: number;
  readonly leaderId: number | null;
}

export interface ElectionMoment {
  readonly atMs: number;
  readonly id: number;
  readonly term: number;
}

export class ElectionWatch {
  #firstCandidate: ElectionMoment | undefined;
  #newLeader: ElectionMoment | undefined;
  #knownByMajority: ElectionMoment | undefined;
  /** Each server's latest observation. */
  readonly #latest = new Map<number, StatusObservation>();

  /**
   * @param oldTerm the term of the leader the fault hit
   * @param serverCount the configured servers: a majority of them must name the new leader
   */
  constructor(
    readonly oldTerm: number,
    readonly serverCount: number,
  ) {}

  /** The first server seen campaigning or in a later term. */
  get firstCandidate(): ElectionMoment | undefined {
    return this.#firstCandidate;
  }

  /** The first server seen leading in a later term. */
  get newLeader(): ElectionMoment | undefined {
    return this.#newLeader;
  }

  /** The first moment a majority (the leader included) named one leader in one later term. */
  get knownByMajority(): ElectionMoment | undefined {
    return this.#knownByMajority;
  }

  observe(observation: StatusObservation): void {
    const previous = this.#latest.get(observation.id);
    // A reply that overtook a later one of the same server says nothing new.
    if (previous !== undefined && previous.atMs > observation.atMs) return;
    this.#latest.set(observation.id, observation);
    const { atMs, id, term } = observation;
    if (term <= this.oldTerm) return;
    this.#firstCandidate ??= { atMs, id, term };
    if (observation.role === "leader") this.#newLeader ??= { atMs, id, term };
    if (this.#knownByMajority === undefined) this.#checkMajority(atMs);
  }

  #checkMajority(atMs: number): void {
    const majority = Math.floor(this.serverCount / 2) + 1;
    for (const candidate of this.#latest.values()) {
      if (candidate.role !== "leader" || candidate.term <= this.oldTerm) continue;
      const naming = [...this.#latest.values()].filter(
        (other) => other.term === candidate.term && (other.leaderId === candidate.id || other.id === candidate.id),
      );
      if (naming.length >= majority) {
        this.#knownByMajority = { atMs, id: candidate.id, term: candidate.term };
        return;
      }
    }
  }
}
