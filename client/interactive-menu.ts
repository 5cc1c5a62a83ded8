/**
 * A list to choose one item from at an interactive prompt: the arrow keys
 * move the cursor, typing the start of a name jumps to it, Enter chooses.
 * Typed text is kept to a few characters and the list is drawn once per
 * chunk of input, so a paste into the menu costs its length once (inquirer's
 * select prompt fed every character to a readline line that grew with the
 * paste, and froze).
 */
import type { Key } from "./interactive-keys.ts";
import { fitStart } from "./value-preview.ts";

export interface MenuChoice<T> {
  readonly value: T;
  readonly name: string;
  readonly description?: string;
}

export type MenuStep = "choosing" | "chosen" | "interrupt";

/** Typing within this long of the last typed key extends the search; later, it starts a new one. */
const searchPauseMs = 700;
/** No name is longer: more typed text could not match anything. */
const searchCharsMax = 64;

export class Menu<T> {
  #cursor: number;
  #search = "";
  #lastTypedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly choices: readonly MenuChoice<T>[],
    defaultValue?: T,
  ) {
    if (choices.length === 0) throw new RangeError("a menu needs at least one choice");
    this.#cursor = Math.max(0, choices.findIndex((choice) => choice.value === defaultValue));
  }

  get current(): MenuChoice<T> {
    return this.choices[this.#cursor] as MenuChoice<T>;
  }

  apply(key: Key, nowMs: number): MenuStep {
    switch (key.kind) {
      case "up":
        this.#cursor = (this.#cursor + this.choices.length - 1) % this.choices.length;
        return "choosing";
      case "down":
        this.#cursor = (this.#cursor + 1) % this.choices.length;
        return "choosing";
      case "text":
        this.#jump(key.text, nowMs);
        return "choosing";
      case "enter":
        return "chosen";
      case "interrupt":
        return "interrupt";
      case "backspace":
      case "clear-line":
        this.#search = "";
        return "choosing";
    }
  }

  /** The choices, one line each within `columns`, the cursor's marked "❯ ", then a line of help. */
  lines(columns: number): string[] {
    const width = Math.max(10, ...this.choices.map((choice) => choice.name.length));
    return [
      ...this.choices.map((choice, index) => {
        const name = choice.description === undefined || choice.description === "" ? choice.name : `${choice.name.padEnd(width)}  ${choice.description}`;
        return fitStart(`${index === this.#cursor ? "❯" : " "} ${name}`, columns);
      }),
      fitStart("(↑↓ navigate, type a name's start to jump, ⏎ choose)", columns),
    ];
  }

  #jump(typed: string, nowMs: number): void {
    const search = nowMs - this.#lastTypedAtMs <= searchPauseMs ? this.#search + typed : typed;
    this.#search = search.slice(0, searchCharsMax).toLowerCase();
    this.#lastTypedAtMs = nowMs;
    const match = this.choices.findIndex((choice) => choice.name.toLowerCase().startsWith(this.#search));
    if (match !== -1) this.#cursor = match;
  }
}
