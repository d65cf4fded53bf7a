/**
 * WebSocket calls that may meet a socket closing under us (a replaced relay, a dying provider): that is a
 * normal state of a peer connection, not an error, so these say what happened instead of throwing.
 */

/** Sends `text`; false when the socket can no longer take it. */
export function sendQuietly(ws: WebSocket, text: string): boolean {
  try {
    ws.send(text);
    return true;
  } catch {
    return false;
  }
}

export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closing or closed
  }
}
