/**
 * The progress line of a running step, on a terminal only: a bar of the
 * step's time, the operations so far and their rate, redrawn in place a
 * few times a second and erased when the step ends. Elsewhere (a pipe, a
 * file, a CI log) nothing is drawn: the report's lines are enough.
 */
import type { StepProgress } from "./workload.ts";

const barWidth = 24;

/** One frame: "[#########...............]  3.8/10 s  1,204 ops  317 ops/s  2 errors". */
export function progressLine(elapsedSeconds: number, seconds: number, progress: StepProgress): string {
  const done = Math.min(1, elapsedSeconds / seconds);
  const filled = Math.round(done * barWidth);
  const rate = elapsedSeconds > 0 ? progress.ops / elapsedSeconds : 0;
  const errors = progress.errors > 0 ? `  ${progress.errors} error${progress.errors === 1 ? "" : "s"}` : "";
  return (
    `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${Math.min(elapsedSeconds, seconds).toFixed(1)}/${seconds} s  ` +
    `${progress.ops.toLocaleString("en-US")} ops  ${rate.toFixed(0)} ops/s${errors}`
  );
}

/** Draws the line on `stream` until the returned function is called; does nothing unless it is a TTY. */
export function showProgress(stream: NodeJS.WriteStream, seconds: number, progress: StepProgress): () => void {
  if (stream.isTTY !== true) return () => {};
  const startedMs = performance.now();
  const draw = (): void => void stream.write(`\r\x1b[K${progressLine((performance.now() - startedMs) / 1000, seconds, progress)}`);
  draw();
  const timer = setInterval(draw, 250);
  return () => {
    clearInterval(timer);
    stream.write("\r\x1b[K");
  };
}
