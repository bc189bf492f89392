// Raw TCP helpers for adversarial tests: hand-written upgrade requests, status lines, never-reading peers.
import { type Socket, connect as tcpConnect } from 'node:net';

/** The HTTP status line of the answer (and the rest of what arrived), or 0 when the socket closed first. */
export interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** The header lines of a WebSocket upgrade of /mcp with subprotocol mcp, plus `extra` lines. */
export function upgradeLines(port: number, extra: string[] = [], path = '/mcp'): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Protocol: mcp',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** Sends `request` on a fresh TCP connection and resolves with the answer once the server ends it (or 101 arrives). */
export function rawRequest(port: number, request: string, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const [head = '', body = ''] = data.split('\r\n\r\n', 2);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : 0, head, body });
    };
    const timer = setTimeout(() => reject(new Error('no answer')), timeoutMs);
    socket.on('data', (c) => {
      data += c.toString('latin1');
      if (data.startsWith('HTTP/1.1 101') && data.includes('\r\n\r\n')) done();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', () => {});
    socket.write(request);
  });
}

/** Opens a TCP connection and writes `partial`; resolves with the socket and when it was closed by the server. */
export function halfOpen(port: number, partial: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => {
      socket.write(partial);
      const t0 = Date.now();
      const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - t0)));
      resolve({ socket, closed });
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}
