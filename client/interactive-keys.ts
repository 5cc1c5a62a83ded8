/**
 * Turns what a terminal in raw mode sends into keys for the interactive
 * client's prompts. Printable characters come out as one run per chunk, not
 * one key per character, so that a pasted megabyte costs one step and not
 * a million: the cost of input stays linear in its length.
 */

export type Key =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "enter" | "backspace" | "clear-line" | "interrupt" | "up" | "down" };

/** One escape sequence: CSI (ESC [ … final byte), SS3 (ESC O x), or ESC and one character. */
const escapeSequence = /\x1b(?:\[[0-?]*[ -/]*[@-~]|O.|[^[O]|$)/y;

/**
 * The keys in `chunk`. Control characters other than the ones named in Key
 * are dropped, as are escape sequences other than the up and down arrows
 * (there is no cursor to move within a line). A sequence cut across two
 * chunks is dropped too: terminals send each key's sequence in one write.
 */
export function* keysOf(chunk: string): Generator<Key> {
  let runStart = -1;
  for (let i = 0; i < chunk.length; i++) {
    const code = chunk.charCodeAt(i);
    const printable = code >= 0x20 && code !== 0x7f;
    if (printable) {
      if (runStart === -1) runStart = i;
      continue;
    }
    if (runStart !== -1) {
      yield { kind: "text", text: chunk.slice(runStart, i) };
      runStart = -1;
    }
    if (code === 0x1b) {
      escapeSequence.lastIndex = i;
      const match = escapeSequence.exec(chunk);
      const sequence = match?.[0] ?? "\x1b";
      if (sequence === "\x1b[A" || sequence === "\x1bOA") yield { kind: "up" };
      if (sequence === "\x1b[B" || sequence === "\x1bOB") yield { kind: "down" };
      i += sequence.length - 1;
      continue;
    }
    const key = controlKeys.get(code);
    if (key !== undefined) yield { kind: key };
  }
  if (runStart !== -1) yield { kind: "text", text: chunk.slice(runStart) };
}

const controlKeys: ReadonlyMap<number, "enter" | "backspace" | "clear-line" | "interrupt"> = new Map([
  [0x0d, "enter"],
  [0x0a, "enter"],
  [0x7f, "backspace"],
  [0x08, "backspace"],
  [0x15, "clear-line"], // Ctrl-U, as in a shell
  [0x03, "interrupt"], // Ctrl-C
]);
