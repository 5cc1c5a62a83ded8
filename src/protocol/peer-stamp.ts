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
  /** Tells one run of the sender from the next: its sequence numbers start again at 1. Two 32-bit halves. */
  readonly runHigh: number;
  readonly runLow: number;
  readonly seq: number;
}

export const peerStampBytes = 20;

/** Numbers the messages of one run of a server, in the order they are queued for sending. */
export class PeerStamper {
  /** The stamp with the sequence number left out: each message's stamp is a copy with its own number. */
  readonly #template = Buffer.alloc(peerStampBytes);
  #seq = 0;

  constructor(from: NodeId) {
    this.#template.writeUInt32BE(from, 0);
    randomBytes(8).copy(this.#template, 4);
  }

  /** The stamp frame for the next message. */
  next(): Uint8Array {
    this.#seq += 1;
    const frame = Buffer.allocUnsafe(peerStampBytes);
    this.#template.copy(frame, 0, 0, 12);
    // A double holds every count below 2^53: a server would need millennia at any real rate to reach it.
    frame.writeUInt32BE(Math.floor(this.#seq / 2 ** 32), 12);
    frame.writeUInt32BE(this.#seq % 2 ** 32, 16);
    return frame;
  }
}

/** The stamp in `frame`, or why it is not one. Never throws: the frame comes off the bus. */
export function decodePeerStamp(frame: Uint8Array): PeerStamp | string {
  if (frame.length !== peerStampBytes) return `stamp is ${frame.length} bytes, not ${peerStampBytes}`;
  const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  const from = bytes.readUInt32BE(0);
  if (from === 0) return "stamp names server 0";
  const high = bytes.readUInt32BE(12);
  const seq = high * 2 ** 32 + bytes.readUInt32BE(16);
  if (seq === 0 || high >= 2 ** 21) return "stamp's sequence number is 0 or beyond 2^53";
  return { from, runHigh: bytes.readUInt32BE(4), runLow: bytes.readUInt32BE(8), seq };
}
