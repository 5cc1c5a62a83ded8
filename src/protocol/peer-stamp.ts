import { randomBytes } from "node:crypto";
import type { NodeId } from "../raft/index.ts";

/**
 * The third frame of every peer message (after the topic and the body, see
 * peer-codec.ts): who sent it, which run of that server, and its place in
 * everything that run has published. With several forwarders each message
 * arrives once per forwarder; the stamp lets a receiver keep the first copy
 * and drop the others (docs/architecture.md §3, "Peer messages").
 *
 *   bytes  0–3   the sender's id, unsigned big-endian
 *   bytes  4–11  the run: random, drawn when the server's transport opens
 *   bytes 12–19  the sequence number, from 1, unsigned big-endian
 */
export interface PeerStamp {
  readonly from: NodeId;
  /** Tells one run of the sender from the next: its sequence numbers start again at 1. */
  readonly run: bigint;
  readonly seq: number;
}

export const peerStampBytes = 20;

/** Numbers the messages of one run of a server, in the order they are queued for sending. */
export class PeerStamper {
  readonly #from: NodeId;
  readonly #run: Uint8Array = randomBytes(8);
  #seq = 0;

  constructor(from: NodeId) {
    this.#from = from;
  }

  /** The stamp frame for the next message. */
  next(): Uint8Array {
    this.#seq += 1;
    const frame = new Uint8Array(peerStampBytes);
    const view = new DataView(frame.buffer);
    view.setUint32(0, this.#from);
    frame.set(this.#run, 4);
    // A double holds every count below 2^53: a server would need millennia at any real rate to reach it.
    view.setUint32(12, Math.floor(this.#seq / 2 ** 32));
    view.setUint32(16, this.#seq % 2 ** 32);
    return frame;
  }
}

/** The stamp in `frame`, or why it is not one. Never throws: the frame comes off the bus. */
export function decodePeerStamp(frame: Uint8Array): PeerStamp | string {
  if (frame.length !== peerStampBytes) return `stamp is ${frame.length} bytes, not ${peerStampBytes}`;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const from = view.getUint32(0);
  if (from === 0) return "stamp names server 0";
  const high = view.getUint32(12);
  const seq = high * 2 ** 32 + view.getUint32(16);
  if (seq === 0 || high >= 2 ** 21) return "stamp's sequence number is 0 or beyond 2^53";
  return { from, run: view.getBigUint64(4), seq };
}
