import type { WebSocket } from 'ws';

/**
 * Pings every open socket each `intervalMs`; a socket whose previous ping got no pong is
 * terminated (dead peers and half-open TCP connections free their slot), unless `excused` says
 * it is slow rather than dead (e.g. it keeps consuming what is sent while its pong waits unread
 * behind backpressure). 0 disables.
 * @param excused called for a socket that missed its pong, with the time (ms since the epoch)
 *   the unanswered ping was sent; true keeps it for another interval
 * @returns stop(), to call on shutdown
 */
export function startHeartbeat(
  clients: ReadonlySet<WebSocket>,
  intervalMs: number,
  onDead: (ws: WebSocket) => void = () => {},
  excused: (ws: WebSocket, pingSentAt: number) => boolean = () => false,
): () => void {
  if (intervalMs <= 0) return () => {};
  const alive = new WeakMap<WebSocket, boolean>();
  const pingedAt = new WeakMap<WebSocket, number>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const ws of clients) {
      const sent = pingedAt.get(ws);
      if (sent === undefined) {
        ws.on('pong', () => alive.set(ws, true));
      } else if (alive.get(ws) !== true && !excused(ws, sent)) {
        onDead(ws);
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      pingedAt.set(ws, now);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
