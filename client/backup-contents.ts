import { formatSize } from "./value-preview.ts";

const counted = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** What a backup holds, as `backup` and `restore` both say it: "310 KiB in 3 chunks, 10000 keys". */
export const backupContents = (bytes: number, chunks: number, keys: number): string => `${formatSize(bytes)} in ${counted(chunks, "chunk")}, ${counted(keys, "key")}`;
