import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Cuts connections that never complete their first HTTP request (slowloris, half-open upgrades):
 * a timer per accepted connection, cleared when the request headers are complete (`request` or
 * `upgrade`); node's own `headersTimeout` covers later requests on a kept-alive connection. For a
 * TLS server the timer starts once the TLS handshake is done (the TLS server's
 * `handshakeTimeout` covers the handshake itself).
 * @param server a node:http or node:https server, before `listen`
 * @param timeoutMs time to send complete request headers, in ms
 * @returns the number of connections currently waiting (for tests and metrics)
 */
export function guardHandshakes(server: Server, timeoutMs: number): { readonly waiting: number } {
  const timers = new Map<Socket, NodeJS.Timeout>();
  const arm = (socket: Socket) => {
    const timer = setTimeout(() => {
      timers.delete(socket);
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    timers.set(socket, timer);
    socket.once('close', () => disarm(socket));
  };
  const disarm = (socket: Socket) => {
    const timer = timers.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    timers.delete(socket);
  };
  const tls = 'setSecureContext' in server;
  server.on(tls ? 'secureConnection' : 'connection', arm);
  server.on('request', (req) => disarm(req.socket));
  server.on('upgrade', (req) => disarm(req.socket));
  // node checks these every connectionsCheckingInterval; they bound later requests on the socket.
  if (server.requestTimeout === 0 || server.requestTimeout > timeoutMs) server.headersTimeout = timeoutMs;
  return {
    get waiting() {
      return timers.size;
    },
  };
}
