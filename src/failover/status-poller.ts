/**
 * Asks servers for their status again and again, every few milliseconds,
 * and reports each answer with the time it arrived. A cluster announces no
 * "election started" or "leader elected" event, so the failover tools
 * sample them. Each server has its own loop and its own client (a socket
 * kept open), so a dead or paused server slows no one else's samples.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ZraftClient, type StatusReply } from "../client/zraft-client.ts";
import type { ClusterConfig } from "../config/cluster-config.ts";
import type { CurveClientKeys } from "../net/curve-security.ts";

export interface PollerOptions {
  /** Time from the start of one request to the start of the next to the same server (default 5 ms). */
  readonly intervalMs?: number;
  /** How long one request may wait for its answer (default 100 ms). */
  readonly timeoutMs?: number;
}

export class StatusPoller {
  readonly #loops: Promise<void>[] = [];
  readonly #clients: ZraftClient[] = [];
  #stopped = false;

  /**
   * Starts polling every server in `ids`; `onStatus` gets each answer and
   * the `performance.now()` at which it arrived.
   */
  constructor(
    config: ClusterConfig,
    curve: CurveClientKeys | undefined,
    ids: readonly number[],
    onStatus: (status: StatusReply, atMs: number) => void,
    options: PollerOptions = {},
  ) {
    const intervalMs = options.intervalMs ?? 5;
    const timeoutMs = options.timeoutMs ?? 100;
    for (const id of ids) {
      const client = new ZraftClient({ config, serverId: id, ...(curve === undefined ? {} : { curve }) });
      this.#clients.push(client);
      this.#loops.push(
        (async () => {
          while (!this.#stopped) {
            const startedMs = performance.now();
            try {
              const status = await client.status(id, { timeoutMs });
              if (!this.#stopped) onStatus(status, performance.now());
            } catch {
              // Down, paused or busy: no sample this time.
            }
            const waitMs = startedMs + intervalMs - performance.now();
            if (waitMs > 0 && !this.#stopped) await sleep(waitMs);
          }
        })(),
      );
    }
  }

  /** Stops every loop and closes the clients. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const client of this.#clients) client.close();
    await Promise.allSettled(this.#loops);
  }
}
