import type { Membership, MembershipChange, NodeId } from "../../src/raft/index.ts";
import type { SimCluster } from "./sim-cluster.ts";

/** What the membership changes of a run came to, for the fuzzer's figures. */
export interface MembershipStats {
  /** Changes a leader appended (the promotions it makes itself not counted). */
  appended: number;
  /** Changes the core refused: another one pending, no entry of the leader's term committed yet, or no longer leading. */
  refused: number;
  /** Servers that joined the running cluster. */
  joined: number;
}

/**
 * The chance that a change removes a voter, by how many voters there are:
 * above three most changes remove one, at three and below few do, so that
 * configurations stay at three to five voters most of the time and now and
 * then shrink to one or two.
 */
function removalChance(voters: number): number {
  return voters >= 5 ? 0.7 : voters === 4 ? 0.5 : voters === 3 ? 0.15 : 0.1;
}

/** A learner that never catches up (down, or cut off) holds nothing back, but is dropped now and then. */
const learnerRemovalChance = 0.2;
/** The share of removals that take the leader itself out (dissertation §4.2.2). */
const leaderRemovalChance = 0.3;

/**
 * Membership changes among the faults (dissertation ch. 4), at the pause a
 * seed drew: through whichever server leads, a single-server change drawn
 * from its configuration in force. A voter is removed (sometimes the leader
 * itself), a server out of the configuration is added back as a learner
 * (the leader promotes it once it caught up, §4.2.1), or a new server joins
 * knowing no configuration and is added. A change the core refuses (one is
 * pending, or the leader has not committed an entry of its term) is drawn
 * afresh next time: an operator retries too.
 */
export class MembershipChanger {
  private running = false;
  readonly stats: MembershipStats = { appended: 0, refused: 0, joined: 0 };

  constructor(
    private readonly cluster: SimCluster,
    /** Mean pause between changes. */
    private readonly everyMs: number,
    /** How many new servers may join in one run. */
    private readonly joinsMax: number,
  ) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  /** No new changes; a change appended goes on committing. */
  stop(): void {
    this.running = false;
  }

  private schedule(): void {
    const { cluster } = this;
    cluster.schedule(cluster.random.intBetween(Math.ceil(this.everyMs / 2), Math.ceil((3 * this.everyMs) / 2)), () => {
      if (!this.running) return;
      this.changeOne();
      this.schedule();
    });
  }

  private changeOne(): void {
    const { cluster } = this;
    const leader = cluster.leader();
    if (leader === null) return;
    const change = this.draw(leader, cluster.node(leader)!.membership());
    if (change === null) return;
    if (cluster.proposeMembership(leader, change).ok) this.stats.appended++;
    else this.stats.refused++;
  }

  private draw(leader: NodeId, { voters, learners }: Membership): MembershipChange | null {
    const { cluster } = this;
    const random = cluster.random;
    const pick = (ids: readonly NodeId[]): NodeId => ids[random.intBetween(0, ids.length - 1)]!;
    if (learners.length > 0 && random.next() < learnerRemovalChance) return { kind: "remove", id: pick(learners), context: "" };
    if (random.next() < removalChance(voters.length)) {
      const id = voters.includes(leader) && random.next() < leaderRemovalChance ? leader : pick(voters);
      return { kind: "remove", id, context: "" };
    }
    const outsiders = cluster.ids.filter((id) => !voters.includes(id) && !learners.includes(id));
    if (outsiders.length > 0 && (this.stats.joined >= this.joinsMax || random.next() < 0.5)) return { kind: "add-learner", id: pick(outsiders), context: "" };
    if (this.stats.joined >= this.joinsMax) return null;
    // As an operator does, the new server is started (with --join) before the leader is asked to add it: if the
    // leader refuses, it waits out of the configuration, for a later change to add it.
    this.stats.joined++;
    return { kind: "add-learner", id: cluster.addServer(), context: "" };
  }
}
