// A WebSocket client transport for the MCP TypeScript SDK v2 `Client`, written from the binding
// in docs/transport.md alone (not imported from mcp-client): what a third party would write to
// reach this server over WebSocket. Binding points used: URL /mcp, subprotocol `mcp`, the bearer
// token in the upgrade's Authorization header only, one JSON-RPC message per text frame, a refused
// upgrade is a real HTTP response (status + WWW-Authenticate), close codes as documented.
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import WebSocket from 'ws';

/** Why the upgrade or the connection failed, with what the server said. */
export class WsTransportError extends Error {
  /** HTTP status of the refused upgrade. */
  readonly status: number;
  /** Its WWW-Authenticate header, when it had one. */
  readonly challenge: string | undefined;
  constructor(message: string, status: number, challenge?: string) {
    super(message);
    this.name = 'WsTransportError';
    this.status = status;
    this.challenge = challenge;
  }
}

/** The SDK `Transport` over one WebSocket connection; one instance per connection. */
export class WebSocketClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #ws: WebSocket | undefined;
  /** Close code and reason of the finished connection (e.g. 4401 at the token's exp). */
  closed: { code: number; reason: string } | undefined;

  readonly #url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  start(): Promise<void> {
    if (this.#ws) throw new Error('WebSocketClientTransport already started');
    const ws = new WebSocket(this.#url, ['mcp'], { headers: { authorization: `Bearer ${this.#token}` } });
    this.#ws = ws;
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        reject(new WsTransportError(`upgrade refused: ${status}`, status, res.headers['www-authenticate']));
        res.resume();
      });
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', (err) => this.onerror?.(err));
        ws.on('message', (data, isBinary) => this.#receive(data.toString('utf8'), isBinary));
        ws.on('close', (code, reason) => {
          this.closed = { code, reason: reason.toString('utf8') };
          this.onclose?.();
        });
        resolve();
      });
    });
  }

  #receive(text: string, isBinary: boolean): void {
    if (isBinary) {
      this.onerror?.(new Error('binary frame from the server: the binding uses text frames only'));
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = JSON.parse(text) as JSONRPCMessage;
    } catch (cause) {
      this.onerror?.(new Error('a text frame that is not JSON', { cause }));
      return;
    }
    this.onmessage?.(message);
  }

  send(message: JSONRPCMessage): Promise<void> {
    const ws = this.#ws;
    if (ws?.readyState !== WebSocket.OPEN) return Promise.reject(new Error('WebSocket is not open'));
    return new Promise((resolve, reject) => ws.send(JSON.stringify(message), (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.close(1000);
    await done;
  }
}
