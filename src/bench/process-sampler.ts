/**
 * CPU time and peak resident memory of the cluster's processes over one
 * step, from /proc (Linux): the CPU seconds are the growth of utime+stime
 * of /proc/<pid>/stat between the start and the end of the step; the peak
 * RSS is the highest VmRSS of /proc/<pid>/status seen while sampling every
 * `intervalMs` (VmHWM would be the peak over the process's whole life).
 * A process that is gone, or a system without /proc, reads as undefined.
 */
import { readFileSync } from "node:fs";

/** A process to watch: "server-1", "forwarder-0". */
export interface WatchedProcess {
  readonly name: string;
  readonly pid: number;
}

export interface ProcessFigures extends WatchedProcess {
  /** CPU seconds (user + system) used during the step; null if it could not be read. */
  readonly cpuSeconds: number | null;
  /** The highest resident set size seen during the step, in bytes; null if it could not be read. */
  readonly peakRssBytes: number | null;
}

/** Clock ticks per second of /proc/<pid>/stat's times: USER_HZ, 100 on every Linux architecture Node runs on. */
const ticksPerSecond = 100;

/** utime + stime of `pid`, in seconds. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5), utime and stime; fields[0] here is field 3.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** VmRSS of `pid`, in bytes. */
export function rssBytesOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export class ProcessSampler {
  readonly #startCpu: ReadonlyMap<number, number | undefined>;
  readonly #peakRss = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;

  /** Starts sampling `processes` now. */
  constructor(
    readonly processes: readonly WatchedProcess[],
    intervalMs = 200,
  ) {
    this.#startCpu = new Map(processes.map((process) => [process.pid, cpuSecondsOf(process.pid)]));
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  /** Stops sampling; each process's figures since the start. */
  stop(): ProcessFigures[] {
    clearInterval(this.#timer);
    this.#sample();
    return this.processes.map((process) => {
      const start = this.#startCpu.get(process.pid);
      const end = cpuSecondsOf(process.pid);
      return {
        ...process,
        cpuSeconds: start === undefined || end === undefined ? null : Math.round((end - start) * ticksPerSecond) / ticksPerSecond,
        peakRssBytes: this.#peakRss.get(process.pid) ?? null,
      };
    });
  }

  #sample(): void {
    for (const { pid } of this.processes) {
      const rss = rssBytesOf(pid);
      if (rss !== undefined && rss > (this.#peakRss.get(pid) ?? 0)) this.#peakRss.set(pid, rss);
    }
  }
}
