/**
 * Hands every message a socket receives to `onMessage` until the socket is
 * closed, then resolves. A receive error while open is not expected: it
 * rejects, and so does an error thrown by `onMessage` (a bug in the caller).
 */
export async function receiveUntilClosed(
  receive: () => Promise<Buffer[]>,
  isClosed: () => boolean,
  onMessage: (frames: Buffer[]) => void,
): Promise<void> {
  for (;;) {
    let frames: Buffer[];
    try {
      frames = await receive();
    } catch (error) {
      if (isClosed()) return;
      throw error;
    }
    if (isClosed()) return;
    onMessage(frames);
  }
}
