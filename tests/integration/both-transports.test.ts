// The same tools over WebSocket and Streamable HTTP with the same Keycloak token: same results,
// same authorization answers.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type ClientError, ResilientClient, StaticTokenSource } from '../../mcp-client/src/index.ts';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../mcp-server/src/index.ts';
import { keycloak } from '../support/keycloak.ts';

const kc = keycloak();
const DATA = path.resolve(import.meta.dirname, '../../data');
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'it', version: '0' } },
};

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });
}

/** The status and WWW-Authenticate of a refused WebSocket upgrade. */
function refusedUpgrade(url: string, token?: string): Promise<{ status: number; challenge: string | undefined }> {
  const ws = new WebSocket(url, ['mcp'], token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('upgrade accepted')));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] });
      res.resume();
    });
    ws.once('error', reject);
  });
}

describe('both transports on /mcp', () => {
  let server: ServerHandle;
  before(async () => {
    // Tokens requested without resource: aud is the client id mcp-server (compatibility audience).
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: DATA,
      OAUTH_ISSUER: kc.issuer,
      OAUTH_AUDIENCE: 'mcp-server',
    });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
    await server.ready;
  });
  after(() => server.close());

  it('gives the same tools and the same results with the same token', async () => {
    const token = await kc.token('full');
    const results = [];
    for (const url of [server.wsUrl, server.httpUrl]) {
      const client = await ResilientClient.connect({
        url,
        tokenSource: new StaticTokenSource(token),
        reconnect: { maxAttempts: 0 },
      });
      try {
        const tools = (await client.listTools()).map((t) => t.name).sort();
        const listing = await client.callTool('list-files', { directory: '.' });
        const file = await client.callTool('read-file', { filePath: 'sample1.txt' });
        results.push({ tools, listing: listing.structuredContent, file: file.structuredContent, text: file.content });
      } finally {
        await client.close();
      }
    }
    assert.deepEqual(results[0]?.tools, ['list-files', 'read-file']);
    assert.deepEqual(results[1], results[0]);
  });

  it('answers a request without a token with the same 401 challenge as a refused upgrade', async () => {
    const ws = await refusedUpgrade(server.wsUrl);
    const res = await post(server.httpUrl, INIT);
    assert.equal(res.status, 401);
    assert.equal(ws.status, 401);
    assert.ok(ws.challenge?.startsWith('Bearer '));
    assert.equal(res.headers.get('www-authenticate'), ws.challenge);
  });

  it('does not let the mcp-lister token read over HTTP either', async () => {
    const client = await ResilientClient.connect({
      url: server.httpUrl,
      tokenSource: new StaticTokenSource(await kc.token('lister', 'file.list')),
      reconnect: { maxAttempts: 0 },
    });
    try {
      assert.deepEqual(
        (await client.listTools()).map((t) => t.name),
        ['list-files'],
      );
      // Over HTTP the server refuses the call itself: 403 insufficient_scope naming file.read (step-up).
      await assert.rejects(client.callTool('read-file', { filePath: 'sample1.txt' }), (err: ClientError) => {
        assert.equal(err.code, 'insufficient_scope');
        assert.equal(err.status, 403);
        assert.match(err.message, /file\.read/);
        return true;
      });
      // The session is unharmed: what the token may do still works.
      assert.notEqual((await client.callTool('list-files', { directory: '.' })).isError, true);
    } finally {
      await client.close();
    }
  });

  it("refuses a session id presented with another client's token (404, like an unknown session)", async () => {
    const full = await kc.token('full');
    const init = await post(server.httpUrl, INIT, { authorization: `Bearer ${full}` });
    assert.equal(init.status, 200);
    await init.body?.cancel();
    const session = init.headers.get('mcp-session-id');
    assert.ok(session);
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };
    const lister = await kc.token('lister', 'file.list');
    const stolen = await post(server.httpUrl, ping, { ...headers, authorization: `Bearer ${lister}` });
    assert.equal(stolen.status, 404);
    await stolen.body?.cancel();
    const own = await post(server.httpUrl, ping, { ...headers, authorization: `Bearer ${full}` });
    assert.equal(own.status, 200);
    await own.body?.cancel();
  });
});
