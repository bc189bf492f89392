// The MCP server against the real Keycloak: tokens from the realm export, the repo's data/ dir.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloseCode, parseBearerChallenge } from 'mcp-ws-common';
import WebSocket from 'ws';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../mcp-server/src/index.ts';
import { keycloak } from '../support/keycloak.ts';

const kc = keycloak();
const DATA = path.resolve(import.meta.dirname, '../../data');

async function start(env: Record<string, string> = {}): Promise<ServerHandle> {
  // Tokens requested without resource: aud is the client id mcp-server (compatibility audience).
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TARGET_DIR: DATA,
    OAUTH_ISSUER: kc.issuer,
    OAUTH_AUDIENCE: 'mcp-server',
    ...env,
  });
  const server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
  await server.ready;
  return server;
}

// biome-ignore lint/suspicious/noExplicitAny: replies are probed ad hoc in tests
type Reply = { id?: number; result?: any; error?: { code: number; message: string } };

/** Opens a socket with a bearer token; rejects with the HTTP status on a refused upgrade. */
function open(url: string, token?: string): Promise<WebSocket> {
  const ws = new WebSocket(url, ['mcp'], token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers })),
    );
    ws.once('error', reject);
  });
}

function rpc(ws: WebSocket, id: number, method: string, params?: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    const on = (d: WebSocket.RawData) => {
      const m = JSON.parse(d.toString()) as Reply;
      if (m.id === id) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
  });
}

async function initialize(ws: WebSocket): Promise<Reply> {
  const r = await rpc(ws, 1, 'initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'it', version: '0' },
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return r;
}

describe('mcp-server with Keycloak', () => {
  let server: ServerHandle;
  before(async () => {
    server = await start();
  });
  after(() => server.close());

  it('serves both tools on data/ to a full-scope token', async () => {
    const ws = await open(server.wsUrl, await kc.token('full'));
    const init = await initialize(ws);
    assert.equal(init.result.protocolVersion, '2025-11-25');
    const list = await rpc(ws, 2, 'tools/list');
    assert.deepEqual(list.result.tools.map((t: { name: string }) => t.name).sort(), ['list-files', 'read-file']);
    const files = await rpc(ws, 3, 'tools/call', { name: 'list-files', arguments: {} });
    const paths = files.result.structuredContent.entries.map((e: { path: string }) => e.path);
    assert.ok(paths.includes('sample1.txt') && paths.includes('sample2.txt'), JSON.stringify(paths));
    const read = await rpc(ws, 4, 'tools/call', { name: 'read-file', arguments: { filePath: 'sample2.txt' } });
    assert.equal(read.result.isError, undefined);
    assert.match(read.result.content[0].text, /sample2/);
    ws.close();
  });

  it('refuses a missing token with 401 and a Bearer challenge', async () => {
    await assert.rejects(open(server.wsUrl), (err: { status: number; headers: Record<string, string> }) => {
      assert.equal(err.status, 401);
      assert.ok(parseBearerChallenge(err.headers['www-authenticate'])?.resource_metadata);
      return true;
    });
  });

  it('refuses a token for another audience with 401', async () => {
    const other = await start({ OAUTH_AUDIENCE: 'other' });
    try {
      await assert.rejects(
        open(other.wsUrl, await kc.token('full')),
        (err: { status: number; headers: Record<string, string> }) => {
          assert.equal(err.status, 401);
          assert.equal(parseBearerChallenge(err.headers['www-authenticate'])?.error, 'invalid_token');
          return true;
        },
      );
    } finally {
      await other.close();
    }
  });

  it('lets mcp-lister list but not read', async () => {
    const ws = await open(server.wsUrl, await kc.token('lister', 'file.list'));
    await initialize(ws);
    const list = await rpc(ws, 2, 'tools/list');
    assert.deepEqual(
      list.result.tools.map((t: { name: string }) => t.name),
      ['list-files'],
    );
    const denied = await rpc(ws, 3, 'tools/call', { name: 'read-file', arguments: { filePath: 'sample1.txt' } });
    assert.equal(denied.result.isError, true);
    assert.match(denied.result.content[0].text, /needs scope file\.read/);
    ws.close();
  });

  it('closes a short-lived token connection at expiry with 4401', async () => {
    const admin = await kc.admin();
    const clientId = `mcp-short-${randomUUID().slice(0, 8)}`;
    const secret = randomUUID();
    const { id } = await admin.clients.create({
      clientId,
      secret,
      enabled: true,
      publicClient: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      attributes: {
        'access.token.lifespan': '5',
        // as the realm's clients: RFC 9068 typ at+jwt (the server refuses any other header typ)
        'access.token.header.type.rfc9068': 'true',
      },
      defaultClientScopes: ['basic', 'mcp-server-audience'],
      optionalClientScopes: ['file.list'],
    });
    try {
      const res = await fetch(kc.tokenEndpoint, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: secret,
          scope: 'file.list',
        }),
      });
      const { access_token: token, expires_in } = (await res.json()) as { access_token: string; expires_in: number };
      assert.ok(expires_in <= 5, `expires_in ${expires_in}`);
      const ws = await open(server.wsUrl, token);
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      await initialize(ws);
      const { code, reason } = await closed;
      assert.equal(code, CloseCode.TOKEN_EXPIRED);
      assert.equal(reason, 'token expired');
    } finally {
      await admin.clients.del({ id });
    }
  });
});
