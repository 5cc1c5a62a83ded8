/**
 * The forwarder's fault rules, for testing only (docs/protocol.md §11): what
 * the relay does with each Raft message while faults are injected. A rule
 * set starts empty, and while it is empty the relay passes every message
 * without looking at it.
 *
 * - drop: messages from any server of `from` to any server of `to` are
 *   dropped (a partition is two such rules, one each way);
 * - isolate: every message to or from one server is dropped;
 * - loss: each message that no drop rule caught is dropped with
 *   probability `fraction`, drawn from a generator seeded by `seed`, so that
 *   a run can be repeated;
 * - delay: each message that is not dropped is held `ms` plus a uniform
 *   draw from [0, jitterMs] before it goes on (with jitter, messages are
 *   reordered, as on a real network).
 *
 * Raft tolerates all of these: messages may be lost, delayed and reordered
 * (Raft paper §5.1, §8); safety must hold, and liveness returns once the
 * rules are cleared.
 */
import { multicastSenderOf, receiverOf, receiverTopic, receiversOf, senderOf } from "./peer-addressing.ts";

/** One rule that drops messages; loss and delay are settings of the set, not rules. */
export type DropRule =
  | { readonly kind: "drop"; readonly from: readonly number[]; readonly to: readonly number[] }
  | { readonly kind: "isolate"; readonly server: number };

export interface LossSetting {
  /** In (0, 1]. */
  readonly fraction: number;
  readonly seed: number;
}

export interface DelaySetting {
  readonly ms: number;
  readonly jitterMs: number;
}

/** What the relay does with one message, or with one copy of a multicast. */
export type RelayVerdict = { readonly kind: "pass" } | { readonly kind: "drop" } | { readonly kind: "delay"; readonly ms: number };

/** A multicast's copy for one receiver: its frames (the receiver's topic, then the original's body and stamp) and its verdict. */
export interface RelayCopy {
  /** Not a readonly array only because a socket's send takes a plain one. */
  readonly frames: Uint8Array[];
  readonly verdict: RelayVerdict;
}

/**
 * What the relay does with a published message: a verdict on it as it is,
 * or, for a multicast while rules are in force, the copies to send in its
 * place, one per receiver, so that a rule between two servers catches
 * only the copy that crosses it.
 */
export type RelayDecision = RelayVerdict | { readonly kind: "copies"; readonly copies: readonly RelayCopy[] };

const pass: RelayVerdict = { kind: "pass" };
const drop: RelayVerdict = { kind: "drop" };

/** Everything in force, as the control socket reports it. */
export interface FaultState {
  readonly drops: readonly DropRule[];
  readonly loss: LossSetting | null;
  readonly delay: DelaySetting | null;
}

/** A one-line description of a drop rule, for logs and control replies. */
export function describeDropRule(rule: DropRule): string {
  return rule.kind === "isolate" ? `isolate server ${rule.server}` : `drop ${rule.from.join(",")} -> ${rule.to.join(",")}`;
}

/** One line per rule or setting in force; empty when nothing is. */
export function describeFaultState(state: FaultState): string[] {
  const lines = state.drops.map(describeDropRule);
  if (state.loss !== null) lines.push(`loss ${state.loss.fraction} (seed ${state.loss.seed})`);
  if (state.delay !== null) lines.push(`delay ${state.delay.ms} ms + up to ${state.delay.jitterMs} ms`);
  return lines;
}

/**
 * A small seedable generator (mulberry32): the forwarder's losses and
 * jitter repeat with their seed. Not for cryptography.
 */
export function seededFloats(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultRules {
  #drops: DropRule[] = [];
  #loss: LossSetting | null = null;
  #lossDraw: () => number = () => 1;
  #delay: DelaySetting | null = null;
  /** Jitter has its own generator, so that turning delays on or off does not change which messages are lost. */
  #jitterDraw: () => number = seededFloats(1);

  /** Whether any rule or setting is in force: when not, `verdict` passes everything without reading it. */
  get active(): boolean {
    return this.#drops.length > 0 || this.#loss !== null || this.#delay !== null;
  }

  get state(): FaultState {
    return { drops: [...this.#drops], loss: this.#loss, delay: this.#delay };
  }

  addDrop(rule: DropRule): void {
    this.#drops.push(rule);
  }

  /** Sets the loss rate; a fraction of 0 turns loss off. Each call restarts the generator from `seed`. */
  setLoss(fraction: number, seed: number): void {
    this.#loss = fraction > 0 ? { fraction, seed } : null;
    this.#lossDraw = seededFloats(seed);
  }

  /** Sets the delay; 0 ms with 0 jitter turns delay off. Jitter is drawn from a generator seeded with `ms`. */
  setDelay(ms: number, jitterMs: number): void {
    this.#delay = ms > 0 || jitterMs > 0 ? { ms, jitterMs } : null;
    this.#jitterDraw = seededFloats(ms * 7919 + jitterMs);
  }

  /** Removes every rule and setting: the relay is a pass-through again. */
  clear(): void {
    this.#drops = [];
    this.#loss = null;
    this.#delay = null;
  }

  /**
   * What to do with a message to `to` (null when no receiver can be read
   * from it). `sender` reads the message's sender and is called only when
   * a rule needs it; a message whose sender cannot be read is judged by its
   * receiver alone.
   */
  verdict(to: number | null, sender: () => number | null): RelayVerdict {
    if (!this.active) return pass;
    if (this.#drops.length > 0 && this.#dropped(to, sender)) return drop;
    if (this.#loss !== null && this.#lossDraw() < this.#loss.fraction) return drop;
    if (this.#delay !== null) return { kind: "delay", ms: this.#delay.ms + Math.floor(this.#jitterDraw() * (this.#delay.jitterMs + 1)) };
    return pass;
  }

  #dropped(to: number | null, sender: () => number | null): boolean {
    let from: number | null | undefined;
    const fromOnce = (): number | null => (from === undefined ? (from = sender()) : from);
    for (const rule of this.#drops) {
      if (rule.kind === "isolate") {
        if (to === rule.server || fromOnce() === rule.server) return true;
      } else if (to !== null && rule.to.includes(to)) {
        const origin = fromOnce();
        if (origin !== null && rule.from.includes(origin)) return true;
      }
    }
    return false;
  }
}

/**
 * The relay's filter for `rules` (see MessageRelay): while no rule is in
 * force it returns at once without reading the message, so the forwarder
 * stays a plain pass-through.
 */
export function faultFilter(rules: FaultRules): (frames: readonly Uint8Array[]) => RelayDecision {
  return (frames) => (rules.active ? decide(rules, frames) : pass);
}

/**
 * A message to one server is judged on the receiver its topic names and,
 * only if a rule needs it, the sender its body names. A multicast is split
 * into one copy per receiver, each judged on its own (its own loss draw and
 * delay). Its sender is taken from its topic, already read: a body naming
 * another is refused by every receiver anyway. A multicast whose receivers
 * cannot be read is judged whole, like a message on an unknown topic.
 */
function decide(rules: FaultRules, frames: readonly Uint8Array[]): RelayDecision {
  const [topic, body] = frames;
  const multicastSender = multicastSenderOf(topic);
  if (multicastSender === null) return rules.verdict(receiverOf(topic), () => senderOf(body));
  const receivers = receiversOf(body);
  if (receivers === null) return rules.verdict(null, () => multicastSender);
  const rest = frames.slice(1);
  const copies = receivers.map((receiver) => ({ frames: [receiverTopic(receiver), ...rest], verdict: rules.verdict(receiver, () => multicastSender) }));
  return { kind: "copies", copies };
}
