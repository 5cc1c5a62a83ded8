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
