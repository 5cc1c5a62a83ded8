/**
 * The interactive client's keyboard and prompts. One listener reads the
 * terminal in raw mode for the whole session and hands each chunk of input
 * to whatever is waiting for it: a line being typed, a menu, or, while a
 * request runs, nothing but Ctrl-C. Ctrl-C is therefore always read by the
 * same code, within one chunk of arriving, whatever the client is doing;
 * it rejects the prompt or abandons the request with Interrupted.
 *
 * Raw mode matters beyond prompts: in cooked mode, Ctrl-C would be a SIGINT
 * to the whole process group, npm included, which then exits 130 however
 * cleanly the client stops.
 */
import { StringDecoder } from "node:string_decoder";
import { keysOf } from "./interactive-keys.ts";
import { LineEditor } from "./interactive-line-editor.ts";
import { Menu, type MenuChoice } from "./interactive-menu.ts";
import { fitStart } from "./value-preview.ts";

/** The user pressed Ctrl-C, the process was told to stop, or the input ended. */
export class Interrupted extends Error {
  override readonly name = "Interrupted";
  constructor() {
    super("interrupted");
  }
}

/** A terminal's input stream, as far as raw mode goes (a pipe has no setRawMode). */
export type KeyboardStream = NodeJS.ReadableStream & { readonly isTTY?: boolean; setRawMode?(mode: boolean): unknown };
/** Where prompts are drawn; `columns` when it is a terminal. */
export type ScreenStream = NodeJS.WritableStream & { readonly columns?: number };

export interface LinePromptOptions {
  /** The text the line starts with (a rejected answer, to correct). */
  readonly initial?: string;
  /** The longest line taken. */
  readonly maxChars: number;
  /** What to say when the line was longer than maxChars (it is then not used). */
  readonly tooLong: string;
  /** What to say when Enter came in the middle of a paste, whose rest is dropped. */
  readonly moreLines: string;
  /** true, or why the line cannot be used (the prompt then asks again). */
  readonly validate?: (line: string) => true | string;
}

export class Keyboard {
  readonly #decoder = new StringDecoder("utf8");
  readonly #interrupt = new AbortController();
  /** Who takes the next chunk of input; undefined while nothing waits for keys (then only Ctrl-C counts). */
  #receiver: ((chunk: string) => void) | undefined;
  readonly #onData = (data: Buffer | string): void => {
    const chunk = typeof data === "string" ? data : this.#decoder.write(data);
    if (this.#receiver !== undefined) this.#receiver(chunk);
    else if (chunk.includes("\x03")) this.interrupt();
  };
  readonly #onEnd = (): void => this.interrupt();

  constructor(
    private readonly input: KeyboardStream,
    private readonly screen: ScreenStream,
  ) {
    this.#attach();
  }

  /** Aborted on Ctrl-C, SIGINT, SIGTERM or the end of input. */
  get signal(): AbortSignal {
    return this.#interrupt.signal;
  }

  interrupt(): void {
    this.#interrupt.abort();
  }

  /** Asks for one line; rejects with Interrupted on Ctrl-C. */
  async readLine(message: string, options: LinePromptOptions): Promise<string> {
    let initial = options.initial ?? "";
    for (;;) {
      const editor = new LineEditor(initial, options.maxChars);
      const draw = (mark: string): string => {
        const head = `${mark} ${message} `;
        return `\r\x1b[2K${head}${editor.view(Math.max(8, this.#columns - head.length - 1))}`;
      };
      this.screen.write(draw("?"));
      let droppedText = false;
      await this.#receive((chunk) => {
        let submitted = false;
        for (const key of keysOf(chunk)) {
          if (submitted) {
            droppedText ||= key.kind === "text";
            continue;
          }
          const step = editor.apply(key);
          if (step === "interrupt") throw new Interrupted();
          submitted = step === "submit";
        }
        this.screen.write(draw("?"));
        return submitted ? true : undefined;
      });
      const line = editor.text;
      const problem = editor.overflowed ? options.tooLong : (options.validate?.(line) ?? true);
      this.screen.write(`${draw(problem === true ? "✔" : "✘")}\n`);
      if (droppedText) this.screen.write(`  ${options.moreLines}\n`);
      if (problem === true) return line;
      this.screen.write(`  ✘ ${problem}\n`);
      initial = editor.overflowed ? "" : line;
    }
  }

  /** Asks for one of `choices`; rejects with Interrupted on Ctrl-C. */
  async choose<T>(message: string, choices: readonly MenuChoice<T>[], defaultValue?: T): Promise<T> {
    const menu = new Menu(choices, defaultValue);
    let drawnLines = 0;
    const draw = (lines: readonly string[]): void => {
      const up = drawnLines > 1 ? `\x1b[${drawnLines - 1}A` : "";
      this.screen.write(`\r${up}\x1b[J${lines.join("\n")}`);
      drawnLines = lines.length;
    };
    const header = fitStart(`? ${message}`, this.#columns - 1);
    draw([header, ...menu.lines(this.#columns - 1)]);
    await this.#receive((chunk) => {
      for (const key of keysOf(chunk)) {
        const step = menu.apply(key, performance.now());
        if (step === "interrupt") throw new Interrupted();
        if (step === "chosen") return true;
      }
      draw([header, ...menu.lines(this.#columns - 1)]);
      return undefined;
    });
    draw([fitStart(`✔ ${message} ${menu.current.name}`, this.#columns - 1)]);
    this.screen.write("\n");
    return menu.current.value;
  }

  /** `work`'s result, or Interrupted at once on Ctrl-C, leaving `work` to end on its own; keys typed meanwhile are dropped. */
  async whileWorking<T>(work: Promise<T>): Promise<T> {
    // Whatever `work` does after an interrupt, nobody waits for it any more.
    work.catch(() => undefined);
    const interrupted = this.#interrupted();
    try {
      return await Promise.race([work, interrupted.promise]);
    } finally {
      interrupted.dispose();
    }
  }

  /**
   * Hands the terminal to `use` (an external editor, say) in cooked mode,
   * without this keyboard reading it, and takes it back afterwards.
   */
  async released<T>(use: () => Promise<T>): Promise<T> {
    this.#detach();
    try {
      return await use();
    } finally {
      this.#attach();
    }
  }

  /** Gives the terminal back as it was found. Idempotent. */
  close(): void {
    this.#detach();
  }

  get #columns(): number {
    return this.screen.columns ?? 80;
  }

  /** Feeds input to `take` until it returns a value; rejects with Interrupted meanwhile, or with what `take` throws. */
  async #receive<T>(take: (chunk: string) => T | undefined): Promise<T> {
    const interrupted = this.#interrupted();
    try {
      return await Promise.race([
        interrupted.promise,
        new Promise<T>((resolve, reject) => {
          this.#receiver = (chunk) => {
            try {
              const result = take(chunk);
              if (result !== undefined) resolve(result);
            } catch (error) {
              if (error instanceof Interrupted) this.interrupt();
              reject(error);
            }
          };
        }),
      ]);
    } finally {
      this.#receiver = undefined;
      interrupted.dispose();
    }
  }

  /** A promise that rejects with Interrupted once the session is interrupted; dispose() stops listening. */
  #interrupted(): { readonly promise: Promise<never>; dispose(): void } {
    let onAbort = (): void => undefined;
    const promise = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Interrupted());
      if (this.signal.aborted) onAbort();
      else this.signal.addEventListener("abort", onAbort, { once: true });
    });
    promise.catch(() => undefined);
    return { promise, dispose: () => this.signal.removeEventListener("abort", onAbort) };
  }

  #attach(): void {
    if (this.input.isTTY === true) this.input.setRawMode?.(true);
    this.input.on("data", this.#onData);
    this.input.on("end", this.#onEnd);
    this.input.resume();
  }

  #detach(): void {
    this.input.off("data", this.#onData);
    this.input.off("end", this.#onEnd);
    if (this.input.isTTY === true) this.input.setRawMode?.(false);
    this.input.pause();
  }
}
