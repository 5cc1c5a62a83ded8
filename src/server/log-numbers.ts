/** How the server's log lines write numbers, alike in every line: "12.3 s", "1,204 entries". */

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function entries(count: number): string {
  return `${groupedDigits(count)} ${count === 1 ? "entry" : "entries"}`;
}

/**
 * An integer with commas between groups of three digits. Not toLocaleString:
 * its first call maps ICU's locale data into the process, some 7 MB of RSS
 * that a server would keep for as long as it runs.
 */
export function groupedDigits(count: number): string {
  const digits = String(Math.abs(Math.trunc(count)));
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ",");
  return count < 0 ? `-${grouped}` : grouped;
}
