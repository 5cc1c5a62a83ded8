/**
 * The end of a chaos run: heal everything, wait until the cluster has a
 * leader again, then read every key linearizably. The reads join the
 * history, so the checker sees the final state too, and they are what the
 * `lost` count compares acknowledged writes with.
 */
import { ZraftClient } from "../client/zraft-client.ts";
import type { LocalCluster } from "../local-cluster/local-cluster.ts";
import { healEverything, restoreMembership, type FaultContext } from "./faults.ts";
import type { HistoryRecorder } from "./history.ts";
import { performAndRecord } from "./workload.ts";

/** A healed cluster needs time: five servers starting at once on two busy cores, then an election. */
const serverWaitMs = 30_000;
const leaderWaitMs = 30_000;
/** Each final read gets a generous deadline and a few tries: after healing, nothing should stop it. */
const finalReadTiming = { requestTimeoutMs: 1_000, deadlineMs: 10_000 } as const;
const finalReadTries = 3;

/** Heals every fault and waits for every server to answer and for a leader; returns a line saying so. */
export async function healAndSettle(context: FaultContext): Promise<string> {
  const { cluster } = context;
  const startMs = performance.now();
  await healEverything(context);
  await Promise.all(cluster.serverIds.map((id) => cluster.waitForServer(id, { timeoutMs: serverWaitMs })));
  await cluster.findLeader({ timeoutMs: leaderWaitMs });
  await restoreMembership(cluster);
  const leader = await cluster.findLeader({ timeoutMs: leaderWaitMs });
  return `healed: every server answers, server ${leader.id} leads in term ${leader.term} (${((performance.now() - startMs) / 1000).toFixed(1)} s)`;
}

/**
 * Reads every key, each as a process of its own, and returns the values
 * read (a key whose reads all failed is missing from the map).
 */
export async function readEveryKey(cluster: LocalCluster, keys: readonly string[], recorder: HistoryRecorder): Promise<Map<string, string | null>> {
  const values = new Map<string, string | null>();
  const client = new ZraftClient({ config: cluster.config, ...finalReadTiming });
  try {
    for (const key of keys) {
      for (let attempt = 1; attempt <= finalReadTries && !values.has(key); attempt++) {
        const record = await performAndRecord(recorder, client, { kind: "get", key }, { process: recorder.newProcess(), client: -1, final: true });
        if (record.outcome === "ok" && record.observed !== undefined) values.set(key, record.observed);
      }
    }
  } finally {
    client.close();
  }
  return values;
}
