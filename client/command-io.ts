import type { ParsedArgs } from "../src/cli/args.ts";
import type { ClusterConfig } from "../src/config/cluster-config.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";

/** Where a `zraft` command reads and writes: the process's own streams, or a test's. */
export interface CommandIo {
  readonly stdout: {
    write(chunk: string | Uint8Array): unknown;
    /** Set when stdout is a terminal; `columns` is then its width. */
    readonly isTTY?: boolean;
    readonly columns?: number;
  };
  readonly stderr: { write(text: string): unknown };
  /** What messages start with: "zraft", or "zraft ctl" when run as the controller. */
  readonly program: string;
  /** Read by `put` for a value from standard input. */
  readonly stdin: AsyncIterable<Uint8Array | string> & { readonly isTTY?: boolean };
}

/** One command to run against the cluster, its name and options checked by the dispatcher (zraft.ts). */
export interface Invocation {
  readonly name: string;
  /** Already counted against the command's arity. */
  readonly operands: readonly string[];
  readonly args: ParsedArgs;
  readonly config: ClusterConfig;
  /** The client's CURVE keys when the config has a curve section (client-key.ts). */
  readonly curve: CurveClientKeys | undefined;
  readonly io: CommandIo;
}
