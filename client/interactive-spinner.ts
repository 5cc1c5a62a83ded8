/**
 * The interactive client's "working…" spinner: one line on a terminal,
 * nothing elsewhere, and notices written above it rather than into it.
 */
export class Spinner {
  static readonly #frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  #timer: NodeJS.Timeout | undefined;
  #frame = 0;
  #label = "";

  constructor(private readonly stream: NodeJS.WriteStream | undefined) {}

  start(label: string): void {
    if (this.stream?.isTTY !== true) return;
    this.#label = label;
    this.#timer ??= setInterval(() => this.#draw(), 100);
    this.#draw();
  }

  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#erase();
  }

  /** Writes a line of text without mixing it into the spinner's line; the spinner redraws below it. */
  around(write: () => void): void {
    if (this.#timer !== undefined) this.#erase();
    write();
    if (this.#timer !== undefined) this.#draw();
  }

  #erase(): void {
    this.stream?.write("\r\x1b[2K");
  }

  #draw(): void {
    this.#frame = (this.#frame + 1) % Spinner.#frames.length;
    this.stream?.write(`\r\x1b[2K${Spinner.#frames[this.#frame]} ${this.#label}`);
  }
}
