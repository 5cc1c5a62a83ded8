/** Real clusters on this machine: what a benchmark, a fault injector or a demo imports. */
export { createClusterDirectory, type ClusterDirectory, type ClusterLayout } from "./cluster-directory.ts";
export { LocalCluster, createLocalCluster, startLocalCluster, type LocalClusterOptions } from "./local-cluster.ts";
export { ManagedProcess, type ProcessExit } from "./managed-process.ts";
export { freeLoopbackPorts } from "./ports.ts";
export { isProcessAlive } from "./process-alive.ts";
export { repoRoot, spawnProjectProcess } from "./project-process.ts";
export { waitFor, type WaitOptions } from "./wait-for.ts";
