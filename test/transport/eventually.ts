/**
 * Polls `condition` until it holds, calling `action` before each check (to
 * resend over a lossy transport, for instance). Fails after `timeoutMs`,
 * a generous bound for a loaded machine; no test asserts on timing.
 */
export async function eventually(
  what: string,
  condition: () => boolean,
  options: { readonly action?: () => unknown; readonly timeoutMs?: number; readonly everyMs?: number } = {},
): Promise<void> {
  const { action, timeoutMs = 15_000, everyMs = 20 } = options;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    await action?.();
    if (condition()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
