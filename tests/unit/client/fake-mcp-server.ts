// In-test MCP server over `ws`: checks the bearer token at the upgrade, one McpServer per
// connection (2025-era only, or both eras through the SDK's serveStdio entry), fake
// list-files/read-file tools, an optional auth/renew answerer, and knobs to close, stall and restart.
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type JSONRPCMessage, type JSONRPCRequest, McpServer, type Transport } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { decodeFrame, encodeFrame, formatBearerChallenge, MCP_SUBPROTOCOL } from 'mcp-ws-common';
import { type WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';

/** The upgrade decision: undefined accepts, otherwise the refusal to send. */
export type AuthCheck = (token: string | undefined, req: IncomingMessage) => Refusal | undefined;
export interface Refusal {
  status: number;
  error?: string;
  description?: string;
  scope?: string;
}

export interface FakeServerOptions {
  auth?: AuthCheck;
  /** Delay before each tool answers, in ms (keeps calls in flight). Default 0. */
  callDelayMs?: number;
  port?: number;
  /** Also offer `append-line`, a tool without annotations (so not safe to repeat). Default false. */
  unsafeTool?: boolean;
  /**
   * `legacy`: a plain McpServer per connection, 2025-11-25 only (it answers `server/discover`
   * with -32601). `dual`: the SDK's serveStdio entry over the socket, so the first message picks
   * 2026-07-28 or 2025-11-25. Default `legacy`.
   */
  era?: 'legacy' | 'dual';
  /**
   * Answers `auth/renew` before the MCP server sees it (which answers -32601): the result, or a
   * JSON-RPC error. Called with the presented token and the connection's current one.
   */
  renew?: (token: unknown, current: string | undefined) => RenewAnswer;
}

/** What the fake answers to `auth/renew`. */
export type RenewAnswer =
  | { readonly result: Record<string, unknown> }
  | { readonly error: { code: number; message: string; data?: unknown } };

const SAFE = { readOnlyHint: true, idempotentHint: true, openWorldHint: false } as const;

class ServerWsTransport implements Transport {
  onclose?: () => void;
  onerror?: (e: Error) => void;
  onmessage?: (m: JSONRPCMessage) => void;
  readonly ws: WebSocket;
  readonly #intercept: (m: JSONRPCMessage) => boolean;
  constructor(ws: WebSocket, intercept: (m: JSONRPCMessage) => boolean) {
    this.ws = ws;
    this.#intercept = intercept;
  }
  async start(): Promise<void> {
    this.ws.on('message', (data, isBinary) => {
      const d = decodeFrame(data as Buffer, isBinary);
      if (d.ok && !this.#intercept(d.message)) this.onmessage?.(d.message);
    });
    this.ws.on('close', () => this.onclose?.());
  }
  async send(m: JSONRPCMessage): Promise<void> {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(encodeFrame(m));
  }
  async close(): Promise<void> {
    this.ws.close();
  }
}

export class FakeMcpServer {
  readonly opts: FakeServerOptions;
  http!: Server;
  wss!: WebSocketServer;
  port = 0;
  /** Tokens seen on accepted upgrades, in order. */
  readonly tokens: string[] = [];
  /** tools/call requests received (by tool name), across connections. */
  readonly calls: string[] = [];
  /** Every request received, in order, across connections (method and params). */
  readonly requests: { method: string; params: Record<string, unknown> | undefined }[] = [];
  upgrades = 0;
  readonly #sockets = new Set<Socket>();
  readonly #events = new EventEmitter();

  constructor(opts: FakeServerOptions = {}) {
    this.opts = opts;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/mcp`;
  }

  static async start(opts: FakeServerOptions = {}): Promise<FakeMcpServer> {
    const s = new FakeMcpServer(opts);
    await s.listen(opts.port ?? 0);
    return s;
  }

  async listen(port: number): Promise<void> {
    this.http = createServer((_req, res) => {
      res.writeHead(426).end();
    });
    this.http.on('connection', (sock) => {
      this.#sockets.add(sock);
      sock.on('close', () => this.#sockets.delete(sock));
    });
    this.wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (set) => (set.has(MCP_SUBPROTOCOL) ? MCP_SUBPROTOCOL : false),
    });
    this.http.on('upgrade', (req, socket, head) => {
      this.upgrades += 1;
      const header = req.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
      const refusal = this.opts.auth?.(token, req);
      if (refusal) {
        const challenge = formatBearerChallenge({
          ...(refusal.error ? { error: refusal.error } : {}),
          ...(refusal.description ? { error_description: refusal.description } : {}),
          ...(refusal.scope ? { scope: refusal.scope } : {}),
          resource_metadata: `http://127.0.0.1:${this.port}/.well-known/oauth-protected-resource/mcp`,
        });
        const body = JSON.stringify({ error: refusal.error, error_description: refusal.description });
        socket.end(
          `HTTP/1.1 ${refusal.status} Refused\r\nWWW-Authenticate: ${challenge}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      if (token) this.tokens.push(token);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        void this.#serve(ws, token);
      });
    });
    this.http.listen(port, '127.0.0.1');
    await once(this.http, 'listening');
    this.port = (this.http.address() as AddressInfo).port;
  }

  async #serve(ws: WebSocket, token: string | undefined): Promise<void> {
    let current = token;
    const transport = new ServerWsTransport(ws, (m) => {
      if (!('method' in m) || !('id' in m)) return false;
      const request = m as JSONRPCRequest;
      this.requests.push({ method: request.method, params: request.params });
      this.#events.emit('request', request.method);
      if (request.method !== 'auth/renew' || !this.opts.renew) return false;
      const answer = this.opts.renew(request.params?.token, current);
      if ('result' in answer && typeof request.params?.token === 'string') current = request.params.token;
      void transport.send({ jsonrpc: '2.0', id: request.id, ...answer } as JSONRPCMessage);
      return true;
    });
    if (this.opts.era === 'dual') {
      serveStdio(() => this.#mcpServer(), { transport });
      return;
    }
    await this.#mcpServer().connect(transport);
  }

  #mcpServer(): McpServer {
    return createFakeMcpServer({
      callDelayMs: this.opts.callDelayMs,
      unsafeTool: this.opts.unsafeTool,
      record: (tool) => this.#record(tool),
    });
  }

  #record(tool: string): void {
    this.calls.push(tool);
    this.#events.emit('call');
  }

  /** Methods of the requests received so far, in order. */
  get methods(): string[] {
    return this.requests.map((r) => r.method);
  }

  /** Resolves once `n` requests of `method` in all have reached the server. */
  async waitForRequests(method: string, n: number): Promise<void> {
    while (this.requests.filter((r) => r.method === method).length < n) await once(this.#events, 'request');
  }

  /** Resolves once `n` tools/call requests in all have reached the server. */
  async waitForCalls(n: number): Promise<void> {
    while (this.calls.length < n) await once(this.#events, 'call');
  }

  /** Closes every open WebSocket with `code`. */
  closeAll(code: number, reason = ''): void {
    for (const ws of this.wss.clients) ws.close(code, reason);
  }

  /** Stops listening and drops every connection without a close frame (like a crash: 1006). */
  async crash(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  /** Graceful stop: 1001 to every client, then close the listener. */
  async stop(): Promise<void> {
    this.closeAll(1001, 'server shutting down');
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}

/** Hooks of {@link createFakeMcpServer}. */
export interface FakeToolOptions {
  callDelayMs?: number | undefined;
  unsafeTool?: boolean | undefined;
  /** Also offer `where`, whose `region` parameter is mirrored in an `Mcp-Param-Region` header (SEP-2243). */
  headerTool?: boolean | undefined;
  /** Told the name of each tool called, before it answers. */
  record(tool: string): void;
}

/** An McpServer with the fake list-files / read-file (and optionally append-line) tools. */
export function createFakeMcpServer(o: FakeToolOptions): McpServer {
  const server = new McpServer({ name: 'fake-mcp', version: '9.9.9' });
  const delay = () => new Promise((r) => setTimeout(r, o.callDelayMs ?? 0));
  server.registerTool(
    'list-files',
    {
      description: 'List files',
      inputSchema: z.object({ directory: z.string().optional(), recursive: z.boolean().optional() }),
      annotations: SAFE,
    },
    async ({ directory }) => {
      o.record('list-files');
      await delay();
      const entries = [
        { name: 'sample1.txt', type: 'file', path: 'sample1.txt', size: 5, modified: '2025-01-01T00:00:00.000Z' },
        { name: 'sample2.txt', type: 'file', path: 'sample2.txt', size: 5, modified: '2025-01-01T00:00:00.000Z' },
      ];
      return {
        content: [{ type: 'text', text: JSON.stringify({ directory, entries }) }],
        structuredContent: { entries },
      };
    },
  );
  server.registerTool(
    'read-file',
    { description: 'Read a file', inputSchema: z.object({ filePath: z.string() }), annotations: SAFE },
    async ({ filePath }) => {
      o.record('read-file');
      await delay();
      if (filePath === 'secret.txt') {
        return {
          isError: true,
          content: [{ type: 'text', text: 'insufficient_scope: read-file needs scope "file.read"' }],
        };
      }
      if (filePath === 'missing.txt')
        return { isError: true, content: [{ type: 'text', text: 'ENOENT: no such file' }] };
      return { content: [{ type: 'text', text: `contents of ${filePath}` }] };
    },
  );
  if (o.unsafeTool) {
    server.registerTool(
      'append-line',
      { description: 'Append a line (not idempotent)', inputSchema: z.object({ line: z.string() }) },
      async ({ line }) => {
        o.record('append-line');
        await delay();
        return { content: [{ type: 'text', text: `appended ${line}` }] };
      },
    );
  }
  if (o.headerTool) {
    const region = z.string().meta({ 'x-mcp-header': 'Region' });
    server.registerTool(
      'where',
      { description: 'Echo the region', inputSchema: z.object({ region }), annotations: SAFE },
      async ({ region }) => {
        o.record('where');
        return { content: [{ type: 'text', text: `region ${region}` }] };
      },
    );
  }
  return server;
}
