/**
 * A fresh cluster on this machine: a temp directory holding `cluster.json`
 * (every endpoint on a loopback port reserved for this process) and the
 * servers' `data/`. Nothing is shared with another cluster, so clusters
 * started side by side cannot disturb each other.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateClusterConfig, type ClusterConfig } from "../config/cluster-config.ts";
import { freeLoopbackPorts } from "./ports.ts";

/** The shape of a local cluster and its timing. */
export interface ClusterLayout {
  /** Number of servers, ids 1..n (default 5). */
  readonly servers?: number;
  /** Number of forwarders (default 1). */
  readonly forwarders?: number;
  /** Default [150, 300]: short, so that elections finish fast on one machine. */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Default 50. */
  readonly heartbeatMs?: number;
  /** More fields for the config file (e.g. `curve`); they win over the ones above. */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
}

export interface ClusterDirectory {
  /** The temp directory: config, data and whatever the caller puts there (logs). */
  readonly dir: string;
  /** Path of the config file every process is given. */
  readonly configPath: string;
  readonly config: ClusterConfig;
}

/**
 * Writes a config on fresh ports in a new temp directory named
 * `<dirPrefix>XXXXXX`; starts nothing.
 */
export async function createClusterDirectory(layout: ClusterLayout, dirPrefix: string): Promise<ClusterDirectory> {
  const serverCount = layout.servers ?? 5;
  const forwarderCount = layout.forwarders ?? 1;
  const ports = await freeLoopbackPorts(serverCount + 2 * forwarderCount);
  const endpoint = (i: number): string => `tcp://127.0.0.1:${ports[i] as number}`;
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const document = {
    forwarders: Array.from({ length: forwarderCount }, (_, i) => ({ pub: endpoint(serverCount + 2 * i), sub: endpoint(serverCount + 2 * i + 1) })),
    servers: Array.from({ length: serverCount }, (_, i) => ({ id: i + 1, client: endpoint(i) })),
    electionTimeoutMs: layout.electionTimeoutMs ?? [150, 300],
    heartbeatMs: layout.heartbeatMs ?? 50,
    dataDir: join(dir, "data"),
    ...layout.extraConfig,
  };
  const configPath = join(dir, "cluster.json");
  writeFileSync(configPath, `${JSON.stringify(document, null, 2)}\n`);
  return { dir, configPath, config: validateClusterConfig(document, configPath) };
}
