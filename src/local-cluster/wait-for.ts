/**
 * Polling for a condition that another process makes true: a cluster
 * offers no event for "a leader is elected" or "the server is listening",
 * so whoever waits for one probes until it holds or time runs out.
 */

export interface WaitOptions {
  /** Give up after this long (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Time between two probes (default 50 ms). */
  readonly intervalMs?: number;
  /** What is awaited, for the error message. */
  readonly what?: string;
}

/**
 * Calls `probe` until it returns something other than undefined, null or
 * false, and returns that. A probe that throws counts as "not yet" (its last
 * error is quoted if time runs out), because a process that is still
 * starting refuses connections and times requests out.
 *
 * @throws Error when `timeoutMs` passes first
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const because = lastError === undefined ? "" : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? "a condition"}${because}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
