/**
 * The faults the nemesis injects into a local cluster, each with the step
 * that heals it. Raft must stay safe under every one (crashes and restarts
 * from stable storage, pauses, lost messages: Raft paper §5, §8) and live
 * again once it is healed.
 *
 * - kill: SIGKILL one server, the leader half the time; heal: start it again
 *   (it reloads its term, vote and log: docs/architecture.md §4);
 * - pause: SIGSTOP one server, the leader half the time (a long GC pause, a
 *   stalled VM: it wakes up believing it still leads); heal: SIGCONT;
 * - partition: the forwarders drop everything to and from one server, the
 *   leader half the time; heal: clear the rules;
 * - majority: split the cluster in two, the leader and one more server on
 *   the minority side when a leader is known; heal: clear the rules;
 * - restart-all: SIGKILL every server; heal: start them all;
 * - forwarder: SIGKILL a forwarder: with one, no Raft message moves; with
 *   more, the others carry them all; heal: start it again (servers
 *   reconnect by themselves);
 * - membership: remove one server from the configuration, the leader half
 *   the time (dissertation ch. 4; a removed leader steps down once the
 *   change commits); heal: add it back, a learner promoted once caught up
 *   (membership-fault.ts).
 */
import type { StatusReply } from "../client/zraft-client.ts";
import type { FaultControl } from "../local-cluster/fault-control.ts";
import type { LocalCluster } from "../local-cluster/local-cluster.ts";
import type { FaultKind } from "./chaos-options.ts";
import type { SeededRandom } from "./seeded-random.ts";
import { addBack, changeMembership, serversLeftOut } from "./membership-fault.ts";

/** The rules of every forwarder at once: a message one forwarder dropped would still cross another. */
export class EveryForwarder {
  constructor(private readonly controls: readonly FaultControl[]) {}

  async isolate(server: number): Promise<void> {
    await Promise.all(this.controls.map((control) => control.isolate(server)));
  }

  async drop(from: readonly number[], to: readonly number[]): Promise<void> {
    await Promise.all(this.controls.map((control) => control.drop(from, to)));
  }

  async clear(): Promise<void> {
    await Promise.all(this.controls.map((control) => control.clear()));
  }
}

export interface FaultContext {
  readonly cluster: LocalCluster;
  readonly control: EveryForwarder;
  readonly random: SeededRandom;
  /** Told of anything that fails the run besides the history: a process that exited by itself. */
  readonly noteProblem: (problem: string) => void;
}

/** A fault in force. */
export interface ActiveFault {
  /** For the run's one line per fault, e.g. "pause server 3 (the leader)". */
  readonly description: string;
  heal(): Promise<void>;
}

/** How long the leader probe waits for each server: a fault must not wait on a dead one for long. */
const statusTimeoutMs = 300;

/** The server that leads in the highest term any server reports, if one does. */
async function currentLeader(cluster: LocalCluster): Promise<StatusReply | undefined> {
  const statuses = [...(await cluster.statuses(statusTimeoutMs)).values()];
  const leaders = statuses.filter((status) => status.role === "leader");
  return leaders.sort((a, b) => b.term - a.term)[0];
}

/** The leader half the time (when one is known), otherwise any server; with a word for the fault's line. */
async function pickTarget(context: FaultContext): Promise<{ readonly id: number; readonly note: string }> {
  const wantLeader = context.random.next() < 0.5;
  const leader = wantLeader ? await currentLeader(context.cluster) : undefined;
  if (leader !== undefined) return { id: leader.id, note: " (the leader)" };
  return { id: context.random.pick(context.cluster.serverIds), note: "" };
}

/**
 * Whether the process named `name` has exited by itself rather than by the
 * nemesis's SIGKILL (the nemesis sends no other fatal signal): a server
 * that stops on its own has hit a failed assertion, a broken invariant
 * (docs/architecture.md §2), and that fails the run whatever the history says.
 */
export function checkNotExitedByItself(context: FaultContext, name: string): void {
  const exit = context.cluster.process(name)?.exit;
  if (exit !== undefined && exit.signal !== "SIGKILL") {
    context.noteProblem(`${name} exited by itself (${exit.signal === null ? `code ${exit.code}` : exit.signal}); see ${name}.log`);
  }
}

/** Starts server `id` unless it is running (noting it if it had stopped by itself). */
export function ensureServerRunning(context: FaultContext, id: number): void {
  const name = `server-${id}`;
  if (context.cluster.process(name)?.running === true) return;
  checkNotExitedByItself(context, name);
  context.cluster.startServer(id);
}

/** Sends `signal` to server `id` if it runs (SIGSTOP and SIGCONT: ManagedProcess.kill would wait for an exit). */
export function signalServer(cluster: LocalCluster, id: number, signal: "SIGSTOP" | "SIGCONT"): void {
  const server = cluster.process(`server-${id}`);
  if (server?.running === true) server.child.kill(signal);
}

/** Injects one fault of `kind`; resolves once it is in force. */
export async function injectFault(kind: FaultKind, context: FaultContext): Promise<ActiveFault> {
  const { cluster, control, random } = context;
  switch (kind) {
    case "kill": {
      const target = await pickTarget(context);
      await cluster.kill(target.id, "SIGKILL");
      return { description: `kill -9 server ${target.id}${target.note}`, heal: async () => ensureServerRunning(context, target.id) };
    }
    case "pause": {
      const target = await pickTarget(context);
      signalServer(cluster, target.id, "SIGSTOP");
      return { description: `pause server ${target.id}${target.note}`, heal: async () => signalServer(cluster, target.id, "SIGCONT") };
    }
    case "partition": {
      const target = await pickTarget(context);
      await control.isolate(target.id);
      return { description: `isolate server ${target.id}${target.note}`, heal: () => control.clear() };
    }
    case "majority": {
      const leader = await currentLeader(cluster);
      const ids = cluster.serverIds;
      const first = leader?.id ?? random.pick(ids);
      const second = random.pick(ids.filter((id) => id !== first));
      const minority = [first, second];
      const majority = ids.filter((id) => !minority.includes(id));
      await control.drop(minority, majority);
      const note = leader === undefined ? "" : ` (leader ${leader.id} in the minority)`;
      return { description: `partition ${minority.join(",")} | ${majority.join(",")}${note}`, heal: () => control.clear() };
    }
    case "restart-all": {
      await Promise.all(cluster.serverIds.map((id) => cluster.kill(id, "SIGKILL")));
      return { description: "kill -9 every server", heal: async () => cluster.serverIds.forEach((id) => ensureServerRunning(context, id)) };
    }
    case "membership": {
      const target = await pickTarget(context);
      const server = cluster.config.servers.find((candidate) => candidate.id === target.id)!;
      const refused = await changeMembership(cluster, { action: "remove", target: target.id });
      return {
        description: `remove server ${target.id}${target.note} from the configuration${refused === null ? "" : ` (not done: ${refused})`}`,
        heal: async () => {
          const why = await addBack(cluster, server);
          if (why !== null) throw new Error(`server ${target.id} could not be added back: ${why}`);
        },
      };
    }
    case "forwarder": {
      const count = cluster.config.forwarders.length;
      const index = random.pick([...Array(count).keys()]);
      await cluster.killForwarder(index);
      return {
        description: count === 1 ? "kill -9 the forwarder" : `kill -9 forwarder ${index} of ${count}`,
        heal: async () => void (await cluster.startForwarder(index)),
      };
    }
  }
}

/** Tries to clear the rules a few times: a forwarder that has just started may take a while to answer on a busy machine. */
async function clearPatiently(control: EveryForwarder, tries = 4): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await control.clear();
      return;
    } catch (error) {
      if (attempt >= tries) throw error;
    }
  }
}

/**
 * Undoes whatever may still be in force, whatever happened before: every
 * forwarder running, no rules, no server paused, every server running.
 */
export async function healEverything(context: FaultContext): Promise<void> {
  const { cluster, control } = context;
  for (let index = 0; index < cluster.config.forwarders.length; index++) {
    if (cluster.process(`forwarder-${index}`)?.running === true) continue;
    checkNotExitedByItself(context, `forwarder-${index}`);
    await cluster.startForwarder(index);
  }
  await clearPatiently(control);
  for (const id of cluster.serverIds) {
    signalServer(cluster, id, "SIGCONT");
    ensureServerRunning(context, id);
  }
}

/**
 * Makes every server of the config a member again, once a leader is known:
 * one the membership fault removed may not have been added back.
 */
export async function restoreMembership(cluster: LocalCluster): Promise<void> {
  for (const server of await serversLeftOut(cluster)) {
    const why = await addBack(cluster, server);
    if (why !== null) throw new Error(`server ${server.id} could not be added back: ${why}`);
  }
}
