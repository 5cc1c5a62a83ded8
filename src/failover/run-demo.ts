/**
 * A whole `demo:failover` run: the cluster (started, or attached to), the
 * rounds one after the other, each one's timeline printed as it ends,
 * then the summary; every process cleaned up whatever happens.
 */
import { writeFileSync } from "node:fs";
import { AttachedTarget } from "./attached-target.ts";
import type { ClusterTarget } from "./cluster-target.ts";
import { summaryLines, roundFailed, roundLines } from "./demo-report.ts";
import type { FailoverOptions } from "./failover-options.ts";
import { runRound, type RoundResult } from "./failover-round.ts";
import { LocalTarget } from "./local-target.ts";
import { seededRandom } from "./seeded-random.ts";

/** Runs the demo; `say` prints a line. Resolves with the exit code: 0 when no round lost a write or failed. */
export async function runDemo(options: FailoverOptions, say: (line: string) => void): Promise<number> {
  // Losing a forwarder is survivable only with another: the forwarder mode's cluster has two.
  const forwarders = options.mode === "forwarder" ? 2 : 1;
  const target: ClusterTarget =
    options.configPath === undefined ? await LocalTarget.start(options.timeout, options.heartbeatMs, forwarders) : new AttachedTarget(options.configPath, options.keyFile);
  say(`failover demo: ${target.description}`);
  say(`${options.rounds} rounds of ${options.mode}, ${options.writers} writers, seed ${options.seed}; times are from the fault (t=0), status sampled every 5 ms`);
  const results: RoundResult[] = [];
  let abandoned: string | undefined;
  let keepDir = false;
  try {
    const settings = { mode: options.mode, writers: options.writers, keyPrefix: `failover/${Date.now().toString(36)}`, random: seededRandom(options.seed) };
    for (let round = 1; round <= options.rounds; round++) {
      try {
        const result = await runRound(target, settings, round);
        results.push(result);
        for (const line of roundLines(result)) say(line);
      } catch (error) {
        abandoned = `round ${round}: ${(error as Error).message}`;
        keepDir = true;
        break;
      }
    }
  } finally {
    await target.cleanup({ keepDir });
  }
  if (target instanceof LocalTarget && keepDir) say(`the cluster's folder and process logs are kept in ${target.cluster.dir}`);
  if (target instanceof AttachedTarget && target.restartLogs.length > 0) say(`servers restarted by the demo log to: ${target.restartLogs.join(", ")}`);
  if (options.jsonFile !== undefined) {
    writeFileSync(options.jsonFile, `${JSON.stringify({ mode: options.mode, seed: options.seed, cluster: target.description, abandoned, rounds: results }, null, 2)}\n`);
    say(`rounds written to ${options.jsonFile}`);
  }
  for (const line of summaryLines(results, options.mode, abandoned)) say(line);
  return abandoned === undefined && !results.some(roundFailed) ? 0 : 1;
}
