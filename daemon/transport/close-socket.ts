// Closing a WebSocket without trusting the other side to cooperate: send a
// close frame with a code and reason, and destroy the socket if the close
// handshake has not finished within a grace period (ws would wait 30 s).
import { WebSocket } from 'ws';

/** Closes `ws` with `code` and `reason`; resolves once its socket is gone, at most ~`graceMs` later. */
export function closeSocket(ws: WebSocket, code: number, reason: string, graceMs: number): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), graceMs);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(code, reason);
  });
}
