// Hand-written WebSocket client frames for peers that write raw TCP and never read.
import { type Socket, connect as tcpConnect } from 'node:net';
import { upgradeLines } from './raw-http.ts';

/** A masked client text frame (RFC 6455 §5.2), any payload length. */
export function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const len = payload.length;
  let head: Buffer;
  if (len < 126) head = Buffer.from([0x81, 0x80 | len]);
  else if (len < 65536) head = Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
  else {
    head = Buffer.alloc(10);
    head[0] = 0x81;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

/** The frame of an `initialize` request (id 0). */
export function initializeFrame(): Buffer {
  return clientFrame(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    }),
  );
}

/** The frame of a `tools/call` of read-file. */
export function readFileFrame(id: number, filePath: string): Buffer {
  return clientFrame(
    JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'read-file', arguments: { filePath } },
    }),
  );
}

/**
 * Opens a raw WebSocket that never reads anything (not even the 101): writes the upgrade with
 * `token`, then `frames`. Resolves once connected; destroy the socket to end it.
 */
export async function neverReadingPeer(port: number, token: string, frames: Buffer[]): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write(upgradeLines(port, [`Authorization: Bearer ${token}`]));
  socket.write(Buffer.concat([initializeFrame(), ...frames]));
  return socket;
}
