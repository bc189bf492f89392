import type { WebSocket } from 'ws';

/**
 * Pings every open socket each `intervalMs`; a socket whose previous ping got no pong is
 * terminated (dead peers and half-open TCP connections free their slot). 0 disables.
 * @returns stop(), to call on shutdown
 */
export function startHeartbeat(
  clients: ReadonlySet<WebSocket>,
  intervalMs: number,
  onDead: (ws: WebSocket) => void = () => {},
): () => void {
  if (intervalMs <= 0) return () => {};
  const alive = new WeakMap<WebSocket, boolean>();
  const watched = new WeakSet<WebSocket>();
  const timer = setInterval(() => {
    for (const ws of clients) {
      if (!watched.has(ws)) {
        watched.add(ws);
        ws.on('pong', () => alive.set(ws, true));
      } else if (alive.get(ws) !== true) {
        onDead(ws);
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
