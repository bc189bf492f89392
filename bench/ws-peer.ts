/**
 * Child process: the naive WebSocket peer, the way a user would wire the SDK to `ws` themselves.
 * One SDK v2 `McpServer` per connection (`connect()` over a minimal `Transport`: JSON.parse in,
 * JSON.stringify out), the token verified once with jose `jwtVerify` at the upgrade against the
 * same local issuer, and the same two tools (same names, schemas and result shapes) implemented
 * the obvious way: `path.resolve` + a prefix check, `fs.readFile` / `readdir` + `stat` per call.
 * No budgets, no audit log, no symlink or special-file checks: what the server's care costs is
 * the difference between its row and this one.
 * Commands: `start({ issuer, jwksUrl, root })` -> ws URL.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { McpServer } from '@modelcontextprotocol/server';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type WebSocket, WebSocketServer } from 'ws';
import * as z from 'zod';
import { serveCommands } from './child.ts';

/** Arguments of `start`. */
export interface WsPeerArgs {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Served directory. */
  readonly root: string;
}

/** The SDK `Transport` a user writes for `ws`: one JSON-RPC message per text frame. */
class NaiveWsTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #ws: WebSocket;
  constructor(ws: WebSocket) {
    this.#ws = ws;
  }
  async start(): Promise<void> {
    this.#ws.on('message', (data) => {
      try {
        this.onmessage?.(JSON.parse(String(data)) as JSONRPCMessage);
      } catch (err) {
        this.onerror?.(err as Error);
      }
    });
    this.#ws.on('close', () => this.onclose?.());
  }
  async send(message: JSONRPCMessage): Promise<void> {
    this.#ws.send(JSON.stringify(message));
  }
  async close(): Promise<void> {
    this.#ws.close();
  }
}

const outside = (root: string, file: string) => file !== root && !file.startsWith(root + path.sep);
const fail = (text: string) => ({ isError: true, content: [{ type: 'text' as const, text }] });

function createMcp(root: string): McpServer {
  const mcp = new McpServer({ name: 'naive-ws-peer', version: '0.1.0' }, { capabilities: { tools: {} } });
  mcp.registerTool(
    'read-file',
    {
      description: 'Reads a file under the served directory.',
      inputSchema: z.object({
        filePath: z.string(),
        offset: z.number().int().optional(),
        length: z.number().optional(),
      }),
      outputSchema: z.object({
        path: z.string(),
        size: z.number(),
        offset: z.number(),
        length: z.number(),
        encoding: z.enum(['utf8', 'base64']),
        eof: z.boolean(),
      }),
    },
    async ({ filePath }) => {
      const file = path.resolve(root, filePath);
      if (outside(root, file)) return fail('outside the served directory');
      try {
        const data = await readFile(file);
        const structured = {
          path: filePath,
          size: data.length,
          offset: 0,
          length: data.length,
          encoding: 'utf8' as const,
          eof: true,
        };
        return {
          content: [
            { type: 'text' as const, text: data.toString('utf8') },
            { type: 'text' as const, text: JSON.stringify(structured) },
          ],
          structuredContent: structured,
        };
      } catch (err) {
        return fail(String((err as Error).message));
      }
    },
  );
  mcp.registerTool(
    'list-files',
    {
      description: 'Lists a directory under the served directory.',
      inputSchema: z.object({ directory: z.string().optional() }),
      outputSchema: z.object({
        directory: z.string(),
        entries: z.array(
          z.object({ name: z.string(), type: z.string(), path: z.string(), size: z.number(), modified: z.string() }),
        ),
      }),
    },
    async ({ directory = '.' }) => {
      const dir = path.resolve(root, directory);
      if (outside(root, dir)) return fail('outside the served directory');
      try {
        const names = (await readdir(dir)).sort();
        const entries = await Promise.all(
          names.map(async (name) => {
            const s = await stat(path.join(dir, name));
            const type = s.isDirectory() ? 'directory' : 'file';
            const rel = path.relative(root, path.join(dir, name));
            return { name, type, path: rel, size: s.size, modified: s.mtime.toISOString() };
          }),
        );
        const structured = { directory, entries };
        return {
          content: [{ type: 'text' as const, text: JSON.stringify(structured) }],
          structuredContent: structured,
        };
      } catch (err) {
        return fail(String((err as Error).message));
      }
    },
  );
  return mcp;
}

let server: Server | undefined;

serveCommands(
  {
    async start(args: WsPeerArgs): Promise<string> {
      const jwks = createRemoteJWKSet(new URL(args.jwksUrl));
      const root = path.resolve(args.root);
      const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
      server = createServer((_req, res) => res.writeHead(404).end());
      server.on('upgrade', (req: IncomingMessage, socket, head) => {
        const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
        jwtVerify(token, jwks, { issuer: args.issuer, audience: 'mcp-server' }).then(
          () =>
            wss.handleUpgrade(req, socket, head, (ws) => {
              createMcp(root)
                .connect(new NaiveWsTransport(ws))
                .catch(() => ws.terminate());
            }),
          () => socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n'),
        );
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    },
  },
  async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  },
);
