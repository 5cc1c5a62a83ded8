import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * Messages handled back to back before the loop lets the event loop turn.
 * A socket with messages queued resolves receive() at once, so without a
 * pause a flood (tens of thousands of pipelined client requests) runs as
 * one chain of microtasks: no tick, no heartbeat, no Ready and no other
 * socket for seconds, long enough for the followers to elect another
 * leader. 64 requests take a few milliseconds.
 */
export const messagesPerTurn = 64;

/**
 * Hands every message a socket receives to `onMessage` until the socket is
 * closed, then resolves, letting the event loop turn after every
 * `messagesPerTurn` messages. A receive error while open is not expected: it
 * rejects, and so does an error thrown by `onMessage` (a bug in the caller).
 */
export async function receiveUntilClosed(
  receive: () => Promise<Buffer[]>,
  isClosed: () => boolean,
  onMessage: (frames: Buffer[]) => void,
): Promise<void> {
  for (let handled = 1; ; handled++) {
    let frames: Buffer[];
    try {
      frames = await receive();
    } catch (error) {
      if (isClosed()) return;
      throw error;
    }
    if (isClosed()) return;
    onMessage(frames);
    if (handled % messagesPerTurn === 0) await nextTurn();
  }
}
