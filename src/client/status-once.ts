import type { ClusterConfig } from "../config/cluster-config.ts";
import type { CurveClientKeys } from "../net/curve-security.ts";
import { ZraftClient, type StatusReply } from "./zraft-client.ts";

/** Server `id`'s status, asked once with a client of its own; undefined when it does not answer within `timeoutMs`. */
export async function statusOnce(config: ClusterConfig, curve: CurveClientKeys | undefined, id: number, timeoutMs: number): Promise<StatusReply | undefined> {
  const client = new ZraftClient({ config, ...(curve === undefined ? {} : { curve }) });
  try {
    return await client.status(id, { timeoutMs });
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}
