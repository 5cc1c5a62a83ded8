/**
 * The text of one line being typed at an interactive prompt: typing and
 * pasting append, Backspace and Ctrl-U erase, Enter submits. Every step
 * costs time in proportion to what was typed in that step, not to the
 * line's length, and the line is shown as its end within the terminal's
 * width (it scrolls sideways), so drawing it costs the width, not the
 * length. inquirer's input prompt redrew and re-wrapped the whole line at
 * every character, which made a 20,000-character paste take minutes.
 */
import type { Key } from "./interactive-keys.ts";
import { fitEnd } from "./value-preview.ts";

export type LineStep = "editing" | "submit" | "interrupt";

export class LineEditor {
  #text: string;
  #overflowed = false;

  /** @param maxChars the longest line taken; input beyond it is dropped and the line marked overflowed */
  constructor(
    initial: string,
    private readonly maxChars: number,
  ) {
    this.#text = initial.slice(0, maxChars);
  }

  get text(): string {
    return this.#text;
  }

  /** Whether input was dropped because the line reached maxChars; cleared by Ctrl-U. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  apply(key: Key): LineStep {
    switch (key.kind) {
      case "text": {
        const room = this.maxChars - this.#text.length;
        if (key.text.length > room) this.#overflowed = true;
        this.#text += room >= key.text.length ? key.text : key.text.slice(0, Math.max(0, room));
        return "editing";
      }
      case "backspace": {
        const last = this.#text.charCodeAt(this.#text.length - 1);
        // A character beyond U+FFFF is two UTF-16 units: erase both.
        const units = last >= 0xdc00 && last <= 0xdfff && this.#text.length >= 2 ? 2 : 1;
        this.#text = this.#text.slice(0, Math.max(0, this.#text.length - units));
        return "editing";
      }
      case "clear-line":
        this.#text = "";
        this.#overflowed = false;
        return "editing";
      case "enter":
        return "submit";
      case "interrupt":
        return "interrupt";
      case "up":
      case "down":
        return "editing";
    }
  }

  /**
   * The line as shown in `columns`: whole when it fits, else its length
   * and its end, so that the cursor (at the end) stays in view.
   */
  view(columns: number): string {
    if (fitEnd(this.#text, columns) === this.#text) return this.#text;
    const length = `[${this.#text.length.toLocaleString("en-US")} characters] `;
    return `${length}${fitEnd(this.#text, Math.max(1, columns - length.length))}`;
  }
}
