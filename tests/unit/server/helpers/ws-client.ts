// A raw ws client for transport tests: sends JSON-RPC, collects replies, reports refused upgrades.
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';

export interface Refused {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Connects; resolves with the open socket or with the HTTP refusal. */
export function connect(
  url: string,
  options: { token?: string; protocols?: string[] } = {},
): Promise<WebSocket | Refused> {
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const ws = new WebSocket(url, options.protocols ?? ['mcp'], { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.once('error', reject);
  });
}

export function isRefused(x: WebSocket | Refused): x is Refused {
  return !(x instanceof WebSocket);
}

/** Sends a request and resolves with the reply of the same id. */
/** A JSON-RPC reply as parsed JSON; tests probe it ad hoc. */
// biome-ignore lint/suspicious/noExplicitAny: replies are probed ad hoc in tests
export type Reply = Record<string, any>;

export function request(ws: WebSocket, id: number, method: string, params?: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString());
      if (msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
  });
}

/** Sends initialize + initialized. */
export async function initialize(ws: WebSocket): Promise<Reply> {
  const reply = await request(ws, 0, 'initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'test', version: '0' },
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return reply;
}

/** Resolves with the close code and reason. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}
