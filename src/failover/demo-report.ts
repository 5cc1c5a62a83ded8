/**
 * What `demo:failover` prints: a timeline per round, then the summary
 * (election time and unavailability, writes, losses), a histogram of
 * unavailability, and the last line in a fixed form that tools and the
 * smoke test read:
 *
 *   rounds=<n> mode=<mode> failed=<n> acknowledged=<n> lost=<n> election_median_ms=<n> unavailable_median_ms=<n>
 *
 * (-1 for a median of nothing; in the forwarder mode there is no election,
 * and unavailability is the longest pause in acknowledged writes.)
 *
 * Pure: every function returns lines.
 */
import type { RoundResult } from "./failover-round.ts";
import { describeSummary, formatMs, summarize } from "./statistics.ts";
import { histogramLines } from "./text-plots.ts";

const at = (ms: number): string => `t=+${formatMs(ms)}`.padEnd(13);

/** The timeline of one round. */
export function roundLines(result: RoundResult): string[] {
  return [
    `round ${result.round}: ${result.fault}`,
    `  ${"t=0".padEnd(13)}fault`,
    ...(result.pauses === undefined ? electionLines(result) : pauseLines(result, result.pauses)),
    ...outcomeLines(result),
  ];
}

/** A lost leader: who campaigned, who won, when writes were acknowledged again. */
function electionLines(result: RoundResult): string[] {
  const lines: string[] = [];
  const { firstCandidate, newLeader } = result;
  if (firstCandidate !== undefined) lines.push(`  ${at(firstCandidate.ms)}first server campaigning: server ${firstCandidate.id}, term ${firstCandidate.term}`);
  else lines.push(`  ${"t=?".padEnd(13)}no server seen campaigning`);
  if (newLeader !== undefined) lines.push(`  ${at(newLeader.ms)}new leader: server ${newLeader.id}, term ${newLeader.term}`);
  else lines.push(`  ${"t=?".padEnd(13)}no new leader seen`);
  if (result.leaderKnownByMajorityMs !== undefined) lines.push(`  ${at(result.leaderKnownByMajorityMs)}a majority names it`);
  if (result.firstWriteMs !== undefined) lines.push(`  ${at(result.firstWriteMs)}first write acknowledged again`);
  else lines.push(`  ${"t=?".padEnd(13)}no write acknowledged in a later term`);
  return lines;
}

/** A forwarder's loss: whether anyone campaigned, and the longest pause in acknowledged writes. */
function pauseLines(result: RoundResult, pauses: NonNullable<RoundResult["pauses"]>): string[] {
  const { firstCandidate } = result;
  return [
    firstCandidate === undefined
      ? `  ${"".padEnd(13)}no server campaigned: no election`
      : `  ${at(firstCandidate.ms)}server ${firstCandidate.id} campaigned for term ${firstCandidate.term}`,
    `  ${"".padEnd(13)}longest pause in acknowledged writes: ${formatMs(pauses.afterFaultMs)} after the fault, ` +
      `${formatMs(pauses.beforeFaultMs)} in the half second before it`,
  ];
}

/** The end of a round: the fault undone, catch-up, writes and losses, problems. */
function outcomeLines(result: RoundResult): string[] {
  const healed = result.healed === undefined ? "" : `${result.healed}; `;
  const caughtUp = result.catchUpMs === undefined || result.pauses !== undefined ? "" : `server ${result.oldLeader.id} caught up in ${formatMs(result.catchUpMs)}; `;
  const lines = [
    `  ${healed}${caughtUp}${result.writesAcknowledged} writes acknowledged (${result.writesUnknown} unknown), ` +
      `${result.keysChecked} keys read back, ${result.lost} lost`,
  ];
  for (const lost of result.lostKeys) lines.push(`  LOST: ${lost.key}: acknowledged ${JSON.stringify(lost.expected)}, read ${JSON.stringify(lost.read)}`);
  for (const problem of result.problems) lines.push(`  problem: ${problem}`);
  return lines;
}

/** Election time: the fault to the first server seen leading in a later term. */
export const electionTimes = (results: readonly RoundResult[]): number[] =>
  results.flatMap((result) => (result.newLeader === undefined ? [] : [result.newLeader.ms]));

/**
 * Unavailability: the fault to the first write acknowledged in a later
 * term; for a forwarder's loss, which needs no new leader, the longest
 * pause in acknowledged writes after it.
 */
export const unavailableTimes = (results: readonly RoundResult[]): number[] =>
  results.flatMap((result) => (result.pauses !== undefined ? [result.pauses.afterFaultMs] : result.firstWriteMs === undefined ? [] : [result.firstWriteMs]));

/** A round failed when it lost a write or something in it went wrong. */
export const roundFailed = (result: RoundResult): boolean => result.lost > 0 || result.problems.length > 0;

/** The summary, the histogram, and the fixed last line. */
export function summaryLines(results: readonly RoundResult[], mode: string, abandoned: string | undefined): string[] {
  const elections = electionTimes(results);
  const unavailable = unavailableTimes(results);
  const acknowledged = results.reduce((sum, result) => sum + result.writesAcknowledged, 0);
  const lost = results.reduce((sum, result) => sum + result.lost, 0);
  const failed = results.filter(roundFailed).length + (abandoned === undefined ? 0 : 1);
  const pauses = results.flatMap((result) => (result.pauses === undefined ? [] : [result.pauses]));
  const lines = [
    `summary of ${results.length} round${results.length === 1 ? "" : "s"} (${mode}):`,
    ...(pauses.length === 0
      ? [
          `  election (fault → new leader):              ${describeSummary(summarize(elections))}`,
          `  unavailability (fault → first write again): ${describeSummary(summarize(unavailable))}`,
        ]
      : [
          `  rounds with an election: ${results.filter((result) => result.firstCandidate !== undefined).length}`,
          `  longest pause in writes after the fault:    ${describeSummary(summarize(unavailable))}`,
          `  the same in the half second before it:      ${describeSummary(summarize(pauses.map((pause) => pause.beforeFaultMs)))}`,
        ]),
    `  writes acknowledged: ${acknowledged}; lost: ${lost}`,
  ];
  if (abandoned !== undefined) lines.push(`  the run was abandoned: ${abandoned}`);
  if (unavailable.length > 0) lines.push("unavailability histogram:", ...histogramLines(unavailable, { bins: 10, width: 40 }));
  const median = (values: number[]): string => String(Math.round(summarize(values)?.median ?? -1));
  lines.push(
    `rounds=${results.length} mode=${mode} failed=${failed} acknowledged=${acknowledged} lost=${lost} ` +
      `election_median_ms=${median(elections)} unavailable_median_ms=${median(unavailable)}`,
  );
  return lines;
}
