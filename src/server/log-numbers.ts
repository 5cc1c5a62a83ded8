/** How the server's log lines write numbers, alike in every line: "12.3 s", "1,204 entries". */

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function entries(count: number): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? "entry" : "entries"}`;
}
