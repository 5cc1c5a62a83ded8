/**
 * Runs a program in a pseudo-terminal, as a person would in a terminal, so
 * that tests can drive interactive prompts with real key presses (raw mode,
 * Enter as "\r", Ctrl-C as a key). Python's pty module (on this machine with
 * python3) holds the terminal; this side writes keys to it and reads what
 * the program draws, with ANSI escape sequences stripped.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { parentPidVariable } from "../../src/cli/parent-watchdog.ts";
import { repoRoot, waitFor, type ProcessExit, type WaitOptions } from "./harness.ts";

/**
 * Forks the program on a pty sized 160x40 and copies bytes both ways until it
 * exits; exits with its code. Keys wait in `pending` and go to the pty only
 * when it can take them: a blocking write of a long paste would stop this
 * loop from reading what the program draws, and a program whose terminal
 * output is full stops reading keys, so both would wait for ever.
 */
const ptyRelay = `
import fcntl, os, pty, select, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    os.execv(sys.argv[1], sys.argv[1:])
fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
reading_keys = True
pending = b""
while True:
    readable, writable, _ = select.select([fd] + ([0] if reading_keys and not pending else []), [fd] if pending else [], [])
    if fd in readable:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            data = None
        except OSError:
            break
        if data == b"":
            break
        if data:
            os.write(1, data)
    if fd in writable:
        try:
            pending = pending[os.write(fd, pending):]
        except BlockingIOError:
            pass
    if 0 in readable:
        keys = os.read(0, 65536)
        if keys:
            pending += keys
        else:
            reading_keys = False
_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`;

const ansiEscape = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]/g;

/** Keys as a terminal sends them. */
export const keys = { enter: "\r", down: "\x1b[B", up: "\x1b[A", ctrlC: "\x03", ctrlU: "\x15", backspace: "\x7f" } as const;

export class TerminalSession {
  readonly exited: Promise<ProcessExit>;
  #screen = "";
  #raw = "";
  /** Where the screen stood when the last answer was given: the next prompt is drawn after it. */
  #promptMark = 0;

  private constructor(private readonly relay: ChildProcessWithoutNullStreams) {
    relay.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      this.#raw += chunk;
      this.#screen += chunk.replace(ansiEscape, "");
    });
    relay.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      this.#screen += `[relay stderr] ${chunk}`;
    });
    this.exited = new Promise((resolve) => relay.once("close", (code, signal) => resolve({ code, signal })));
  }

  /** Runs `node --import tsx <args>` from the project root on a fresh pty. */
  static start(args: readonly string[], env: NodeJS.ProcessEnv = {}): TerminalSession {
    const relay = spawn("python3", ["-c", ptyRelay, process.execPath, "--import", "tsx", ...args], {
      cwd: repoRoot,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, TERM: "xterm-256color", ...env, [parentPidVariable]: String(process.pid) },
    });
    return new TerminalSession(relay);
  }

  /** Everything drawn so far, escape sequences removed. */
  get screen(): string {
    return this.#screen;
  }

  /** Everything drawn so far, escape sequences included. */
  get raw(): string {
    return this.#raw;
  }

  /** A position in the screen text, to wait for what appears after it. */
  mark(): number {
    return this.#screen.length;
  }

  /** Waits until the text drawn after `since` matches `pattern`; returns that text. */
  async waitForText(pattern: RegExp | string, options: WaitOptions & { readonly since?: number } = {}): Promise<string> {
    const since = options.since ?? 0;
    const matches = (text: string): boolean => (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text));
    try {
      return await waitFor(() => (matches(this.#screen.slice(since)) ? this.#screen.slice(since) : undefined), {
        timeoutMs: 15_000,
        intervalMs: 20,
        what: `the terminal to show ${String(pattern)}`,
        ...options,
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- terminal since mark ---\n${this.#screen.slice(since)}`, { cause: error });
    }
  }

  /** Sends keys as typed. */
  press(text: string): void {
    this.relay.stdin.write(text);
  }

  /**
   * Waits for a prompt whose text matches `prompt` (drawn since the last
   * answer), types `text`, waits until the prompt shows it, and presses Enter.
   * Waiting first matters: keys typed before the prompt puts the terminal in
   * raw mode would be taken as a finished line by the terminal itself.
   */
  async answer(prompt: RegExp | string, text: string): Promise<void> {
    await this.waitForText(prompt, { since: this.#promptMark });
    const since = this.mark();
    this.press(text);
    if (text !== "") await this.waitForText(text, { since });
    this.#pressEnter();
  }

  /**
   * Waits for a select prompt whose text matches `prompt`, moves the cursor
   * to the first choice whose name starts with `namePrefix` (by typing it:
   * inquirer jumps to the match) and presses Enter.
   */
  async choose(prompt: RegExp | string, namePrefix: string): Promise<void> {
    await this.waitForText(prompt, { since: this.#promptMark });
    // The help line closes each drawing of a select prompt.
    await this.waitForText("navigate", { since: this.#promptMark });
    if (!this.#cursorLine(this.#promptMark).startsWith(namePrefix)) {
      const since = this.mark();
      this.press(namePrefix);
      await waitFor(() => this.#cursorLine(since).startsWith(namePrefix), { what: `the cursor on "${namePrefix}"`, intervalMs: 20 });
    }
    this.#pressEnter();
  }

  /** The choice under the select cursor in the latest drawing after `since`. */
  #cursorLine(since: number): string {
    const text = this.#screen.slice(since);
    const at = text.lastIndexOf("❯ ");
    return at === -1 ? "" : (text.slice(at + 2).split("\n")[0] ?? "");
  }

  #pressEnter(): void {
    this.press(keys.enter);
    this.#promptMark = this.mark();
  }

  /** Kills the relay (and with it the terminal and the program). */
  async kill(): Promise<ProcessExit> {
    if (this.relay.exitCode === null && this.relay.signalCode === null) this.relay.kill("SIGKILL");
    return this.exited;
  }
}
