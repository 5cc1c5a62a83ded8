/**
 * The known name a misspelt one most likely meant, so that a config typo is
 * refused with a suggestion (docs/protocol.md §2) rather than silently read
 * as its default.
 */

/**
 * The edit distance between `a` and `b`: the fewest insertions, deletions,
 * substitutions and swaps of two neighbouring characters that turn one into
 * the other (the "optimal string alignment" variant of Damerau–Levenshtein),
 * since swapped letters are the commonest typing slip.
 */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: the distance between the first i characters of a and the first j of b.
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => (rows[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const substitution = at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1);
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Case, underscores and dashes are how people spell one name several ways ("heartbeat_ms", "HeartbeatMs"): they cost nothing. */
const normalized = (name: string): string => name.toLowerCase().replace(/[_-]/g, "");

/**
 * The name of `known` closest to `name`, when it is close enough to be what
 * was meant: within a third of its length in edits (at least one), or one
 * name the start of the other ("heartbeat" for "heartbeatMs"). Undefined
 * when none is.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const typed = normalized(name);
  let best: { readonly name: string; readonly distance: number } | undefined;
  for (const candidate of known) {
    const target = normalized(candidate);
    const distance = editDistance(typed, target);
    const close = distance <= Math.max(1, Math.floor(target.length / 3)) || (typed.length >= 3 && (target.startsWith(typed) || typed.startsWith(target)));
    if (close && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}
