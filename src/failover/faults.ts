/**
 * What a round does to the leader, and how it is undone:
 * - kill: SIGKILL (a crash: it comes back from its stable storage, Raft
 *   paper §5.1, docs/architecture.md §4); undone by a restart;
 * - pause: SIGSTOP (a long GC pause or a stalled VM: it wakes believing it
 *   still leads, and learns the new term from the first message it gets);
 *   undone by SIGCONT;
 * - step-down: the admin action that makes the leader a follower that
 *   stands for no election for one timeout (docs/protocol.md §4);
 * - transfer: the admin action that hands leadership to one follower,
 *   which campaigns at once (dissertation §3.10); the reply comes when it
 *   is done;
 * - forwarder: SIGKILL of one of two forwarders, chosen at random; every
 *   server is connected to both, so no election should follow; undone by
 *   a restart, after which every server subscribes through it again.
 */
import { sendAdmin, type AdminOutcome } from "../client/admin-request.ts";
import type { StatusReply } from "../client/zraft-client.ts";
import type { FailoverMode } from "./failover-options.ts";
import type { ClusterTarget } from "./cluster-target.ts";
import { pickOne } from "./seeded-random.ts";

export interface InjectedFault {
  /** For the round's timeline, e.g. "kill -9 server 3 (pid 4242)". */
  readonly description: string;
  /** performance.now() just before the fault was sent: t=0 of the round. */
  readonly atMs: number;
  /** Settles once the fault has taken effect or failed: a sentence for a failure, undefined for success. */
  readonly outcome: Promise<string | undefined>;
  /** Undoes the fault; says what it did ("restarted server 3"), or undefined when there was nothing to undo. */
  heal(): Promise<string | undefined>;
}

/** How long a step-down may take to be answered: it is immediate on the server. */
const stepDownTimeoutMs = 2_000;

function describeAdmin(outcome: AdminOutcome): string | undefined {
  switch (outcome.kind) {
    case "done":
      return undefined;
    case "refused":
      return `refused with ${outcome.code}: ${outcome.message}`;
    case "no-reply":
      return outcome.message;
  }
}

/**
 * Applies `mode` to `leader`. `followers` are the servers a transfer may go
 * to (those that named `leader` in its term); `random` picks one.
 */
export function injectFault(mode: FailoverMode, target: ClusterTarget, leader: StatusReply, followers: readonly number[], random: () => number): InjectedFault {
  const id = leader.id;
  const server = target.config.servers.find((one) => one.id === id);
  if (server === undefined) throw new Error(`server ${id} is not in the config`);
  const adminOptions = { ...(target.curve === undefined ? {} : { curve: target.curve }) };
  switch (mode) {
    case "kill": {
      const atMs = performance.now();
      const exited = target.kill(id, leader.pid);
      return {
        description: `kill -9 server ${id} (leader in term ${leader.term}, pid ${leader.pid})`,
        atMs,
        outcome: exited.then(() => undefined, (error: unknown) => `the kill failed: ${(error as Error).message}`),
        heal: async () => {
          await exited.catch(() => undefined);
          await target.restart(id);
          return `restarted server ${id}`;
        },
      };
    }
    case "pause": {
      const atMs = performance.now();
      target.pause(id, leader.pid);
      return {
        description: `SIGSTOP server ${id} (leader in term ${leader.term}, pid ${leader.pid})`,
        atMs,
        outcome: Promise.resolve(undefined),
        heal: async () => {
          target.resume(id);
          return `SIGCONT server ${id}`;
        },
      };
    }
    case "step-down": {
      const atMs = performance.now();
      const outcome = sendAdmin(server, { action: "step-down" }, { timeoutMs: stepDownTimeoutMs, ...adminOptions }).then(describeAdmin);
      return { description: `step-down of server ${id} (leader in term ${leader.term})`, atMs, outcome, heal: async () => undefined };
    }
    case "transfer": {
      if (followers.length === 0) throw new Error(`server ${id} has no follower to transfer leadership to`);
      const to = pickOne(followers, random);
      // The reply comes once the target leads, or after an election timeout or two when it did not take over.
      const timeoutMs = 2 * target.config.electionTimeoutMs[1] + 2_000;
      const atMs = performance.now();
      const outcome = sendAdmin(server, { action: "transfer", target: to }, { timeoutMs, ...adminOptions }).then(describeAdmin);
      return { description: `transfer from server ${id} (leader in term ${leader.term}) to server ${to}`, atMs, outcome, heal: async () => undefined };
    }
    case "forwarder": {
      const forwarders = target.forwarders;
      if (forwarders === undefined || forwarders.count < 2) throw new Error("the forwarder mode needs a cluster the demo started with two forwarders");
      const index = pickOne([...Array(forwarders.count).keys()], random);
      const atMs = performance.now();
      const exited = forwarders.kill(index);
      return {
        description: `kill -9 forwarder ${index} of ${forwarders.count} (server ${id} leads term ${leader.term})`,
        atMs,
        outcome: exited.then(() => undefined, (error: unknown) => `the kill failed: ${(error as Error).message}`),
        heal: async () => {
          await exited.catch(() => undefined);
          await forwarders.restart(index);
          return `restarted forwarder ${index}; every server subscribed through it again`;
        },
      };
    }
  }
}
