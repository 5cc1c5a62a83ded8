/**
 * A whole `bench:election` run: for each election timeout range a fresh
 * cluster (heartbeat well below the range), `rounds` kills of the leader,
 * the range's report, and at the end the SVG with every range.
 */
import { writeFileSync } from "node:fs";
import type { ElectionBenchOptions } from "./bench-options.ts";
import { rangeReportLines, sampleLines } from "./bench-report.ts";
import { measureElection, type ElectionSample } from "./election-round.ts";
import { LocalTarget } from "./local-target.ts";
import { seededRandom } from "./seeded-random.ts";
import { cdfSvg } from "./svg-chart.ts";
import { describeRange, heartbeatFor, type TimeoutRange } from "./timeout-ranges.ts";

export interface RangeResult {
  readonly range: TimeoutRange;
  readonly heartbeatMs: number;
  readonly samples: readonly ElectionSample[];
}

async function benchRange(range: TimeoutRange, rounds: number, random: () => number, say: (line: string) => void): Promise<RangeResult> {
  const target = await LocalTarget.start(range);
  say(`election timeout ${describeRange(range)}: ${target.description}`);
  const samples: ElectionSample[] = [];
  let failed = true;
  try {
    for (let round = 1; round <= rounds; round++) {
      samples.push(await measureElection(target, random));
      if (round % 10 === 0 || round === rounds) say(sampleLines(samples.map((sample) => sample.withoutLeaderMs)).at(-1) as string);
    }
    failed = false;
  } finally {
    await target.cleanup({ keepDir: failed });
    if (failed) say(`the cluster's folder and process logs are kept in ${target.cluster.dir}`);
  }
  return { range, heartbeatMs: target.config.heartbeatMs, samples };
}

export async function runElectionBench(options: ElectionBenchOptions, say: (line: string) => void): Promise<void> {
  say(
    `election bench: ${options.rounds} kill -9 of the leader per range, ranges ${options.ranges.map(describeRange).join(", ")} ` +
      `(heartbeat min(50, low/3): ${options.ranges.map(heartbeatFor).join(", ")} ms); seed ${options.seed}`,
  );
  say("time without leader = the kill → a majority names a new leader (status sampled every 5 ms); ms per round:");
  const random = seededRandom(options.seed);
  const results: RangeResult[] = [];
  for (const range of options.ranges) {
    const result = await benchRange(range, options.rounds, random, say);
    results.push(result);
    for (const line of rangeReportLines(range, result.samples.map((sample) => sample.withoutLeaderMs))) say(line);
  }
  const series = results.map((result) => ({ label: describeRange(result.range), values: result.samples.map((sample) => sample.withoutLeaderMs) }));
  writeFileSync(options.svgFile, cdfSvg(series, { title: `Time without leader after kill -9 of the leader (${options.rounds} rounds per range)` }));
  say(`chart of every range written to ${options.svgFile}`);
  if (options.jsonFile !== undefined) {
    writeFileSync(options.jsonFile, `${JSON.stringify({ seed: options.seed, rounds: options.rounds, ranges: results }, null, 2)}\n`);
    say(`measurements written to ${options.jsonFile}`);
  }
}
