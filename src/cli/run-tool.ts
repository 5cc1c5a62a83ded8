/**
 * The entry of a tool that runs a cluster for a while (the chaos run, the
 * failover demo, the election benchmark): options or usage, a watchdog that
 * stops a run that is stuck, and exits that go through process.exit on
 * Ctrl-C or a kill, so that the exit hook of src/local-cluster kills every
 * process the tool started (a paused one included). A tool that can end
 * early with what it has (the benchmark) takes the first Ctrl-C as "stop
 * early" instead; a second one quits at once.
 */
import { reportCommandLineError } from "./args.ts";
import { repeatedSignalWindowMs } from "./repeated-signal.ts";

export interface ToolSpec<Options> {
  /** As in messages: "chaos", "demo:failover". */
  readonly name: string;
  readonly usage: string;
  /** The options, or "help"; throws UsageError (exit 2) on a bad command line. */
  readonly parse: (argv: readonly string[]) => Options | "help";
  /** How long a run of these options may take before it counts as stuck. */
  readonly budgetMs: (options: Options) => number;
  /**
   * Runs the tool, printing lines through `say`; resolves to the exit code.
   * `stopEarly` is aborted by the first Ctrl-C when the tool ends early.
   */
  readonly run: (options: Options, say: (line: string) => void, stopEarly: AbortSignal) => Promise<number>;
  /** What the first Ctrl-C does, said on stderr ("ending the step now, then ..."); absent: it quits at once. */
  readonly endsEarly?: string;
}

async function main<Options>(spec: ToolSpec<Options>, argv: readonly string[], stopEarly: AbortSignal): Promise<number> {
  let options: Options | "help";
  try {
    options = spec.parse(argv);
  } catch (error) {
    const exitCode = reportCommandLineError(spec.name, error, spec.usage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }
  if (options === "help") {
    process.stdout.write(`${spec.usage}\n`);
    return 0;
  }
  const budgetMs = spec.budgetMs(options);
  const watchdog = setTimeout(() => {
    process.stderr.write(`${spec.name}: the run took more than ${Math.round(budgetMs / 1000)} s; stopping every process\n`);
    process.exit(1);
  }, budgetMs);
  watchdog.unref();
  try {
    return await spec.run(options, (line) => void process.stdout.write(`${line}\n`), stopEarly);
  } finally {
    clearTimeout(watchdog);
  }
}


export function runTool<Options>(spec: ToolSpec<Options>): void {
  const stopEarly = new AbortController();
  let stopAskedAtMs = 0;
  process.on("SIGINT", () => {
    if (spec.endsEarly === undefined) process.exit(130);
    if (stopEarly.signal.aborted) {
      if (performance.now() - stopAskedAtMs >= repeatedSignalWindowMs) process.exit(130);
      return;
    }
    stopAskedAtMs = performance.now();
    process.stderr.write(`\n${spec.name}: ${spec.endsEarly} (Ctrl-C again quits at once)\n`);
    stopEarly.abort();
  });
  process.on("SIGTERM", () => process.exit(143));
  main(spec, process.argv.slice(2), stopEarly.signal).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${spec.name}: the run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
