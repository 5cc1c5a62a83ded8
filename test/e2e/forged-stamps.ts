import { PeerStamper } from "../../src/protocol/peer-stamp.ts";

/**
 * Stamps (src/protocol/peer-stamp.ts) for messages a test forges, posing as
 * any server: each posed sender gets its own numbering, as a server's
 * transport would, so the receivers take every message for a first copy.
 */
export class ForgedStamps {
  readonly #stampers = new Map<number, PeerStamper>();

  next(from: number): Uint8Array {
    let stamper = this.#stampers.get(from);
    if (stamper === undefined) {
      stamper = new PeerStamper(from);
      this.#stampers.set(from, stamper);
    }
    return stamper.next();
  }
}
