// MCP over Streamable HTTP served by the SDK itself, for client tests of both eras:
// `dual` is createMcpHandler (2026-07-28 statelessly, 2025 requests too); `legacy` is a
// sessionful 2025-only server (one NodeStreamableHTTPServerTransport per session, as servers
// built on SDK v1 are), which answers a session-less server/discover with 400 / -32000.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, type McpServer } from '@modelcontextprotocol/server';
import { createFakeMcpServer } from './fake-mcp-server.ts';

export interface SdkHttpServer {
  readonly url: string;
  /** JSON-RPC methods of the POSTed requests, in order. */
  readonly methods: string[];
  /** Value of the `MCP-Protocol-Version` header of each POST (`-` when absent), in order. */
  readonly versionHeaders: string[];
  /** tools/call requests that reached a tool. */
  readonly calls: string[];
  /** `Mcp-Param-Region` header of each tools/call POST (`-` when absent). */
  readonly regionHeaders: string[];
  close(): Promise<void>;
}

/** Starts an SDK-served MCP endpoint on 127.0.0.1 (`/mcp`). */
export async function startSdkHttpServer(era: 'dual' | 'legacy'): Promise<SdkHttpServer> {
  const methods: string[] = [];
  const versionHeaders: string[] = [];
  const calls: string[] = [];
  const regionHeaders: string[] = [];
  const build = () => createFakeMcpServer({ record: (t) => calls.push(t), headerTool: true });
  const serve = era === 'dual' ? toNodeHandler(createMcpHandler(build)) : legacyHandler(build);
  const http: Server = createServer(async (req, res) => {
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (body !== undefined) {
      for (const m of Array.isArray(body) ? body : [body]) if (typeof m?.method === 'string') methods.push(m.method);
      versionHeaders.push(String(req.headers['mcp-protocol-version'] ?? '-'));
      if ((body as { method?: unknown }).method === 'tools/call') {
        regionHeaders.push(String(req.headers['mcp-param-region'] ?? '-'));
      }
    }
    await serve(req, res, body);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    methods,
    versionHeaders,
    calls,
    regionHeaders,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>;

function legacyHandler(build: () => McpServer): Handler {
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  return async (req, res, body) => {
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (known) return known.handleRequest(req, res, body);
    if (typeof id === 'string') return void res.writeHead(404).end();
    if ((body as { method?: unknown } | undefined)?.method !== 'initialize') {
      res.writeHead(400, { 'content-type': 'application/json' });
      const error = { code: -32000, message: 'Bad Request: Server not initialized' };
      return void res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error }));
    }
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
    });
    await build().connect(transport);
    await transport.handleRequest(req, res, body);
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}
