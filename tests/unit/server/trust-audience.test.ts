// The server accepts tokens issued for its canonical URI (PUBLIC_URL) by default, others only when
// OAUTH_AUDIENCE names them; its 401 challenge leads a client to the least scope, not every scope.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseBearerChallenge } from 'mcp-ws-common';
import WebSocket from 'ws';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';

const CANONICAL = 'http://localhost:3000/mcp';
const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } },
};

/** Status and WWW-Authenticate of a WebSocket upgrade (101 when accepted). */
function upgrade(url: string, token?: string): Promise<{ status: number; challenge: string }> {
  const ws = new WebSocket(url, ['mcp'], token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, challenge: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, challenge: String(res.headers['www-authenticate'] ?? '') });
      res.resume();
    });
    ws.once('error', reject);
  });
}

/** Status and WWW-Authenticate of a Streamable HTTP initialize. */
async function initialize(url: string, token?: string): Promise<{ status: number; challenge: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(INIT),
  });
  await res.body?.cancel();
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
}

describe('audience and challenge', () => {
  let kc: LocalIssuer;
  let root: string;
  const servers: TestServer[] = [];
  const start = async (env: Record<string, string>) => {
    const s = await startTestServer(kc, root, env);
    servers.push(s);
    return s;
  };
  before(async () => {
    kc = await startLocalIssuer();
    root = mkdtempSync(path.join(tmpdir(), 'trust-aud-'));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await kc.close();
  });

  it('accepts aud = PUBLIC_URL and refuses the old string audience unless OAUTH_AUDIENCE names it', async () => {
    const strict = await start({ PUBLIC_URL: CANONICAL, OAUTH_AUDIENCE: '' });
    const bound = await kc.sign({ aud: CANONICAL });
    const legacy = await kc.sign({ aud: 'mcp-server' });
    for (const send of [upgrade, initialize]) {
      const url = send === upgrade ? strict.wsUrl : strict.httpUrl;
      assert.ok([101, 200].includes((await send(url, bound)).status), `${send.name}: bound token admitted`);
      const refused = await send(url, legacy);
      assert.equal(refused.status, 401, `${send.name}: legacy audience refused`);
      assert.equal(parseBearerChallenge(refused.challenge)?.error, 'invalid_token');
      assert.match(refused.challenge, /aud/);
    }
    const compat = await start({ PUBLIC_URL: CANONICAL, OAUTH_AUDIENCE: 'mcp-server' });
    assert.equal((await upgrade(compat.wsUrl, legacy)).status, 101);
    assert.equal((await upgrade(compat.wsUrl, bound)).status, 101);
    assert.equal((await upgrade(compat.wsUrl, await kc.sign({ aud: 'http://localhost:4000/mcp' }))).status, 401);
  });

  it('publishes the canonical URI as the metadata resource', async () => {
    const s = await start({ PUBLIC_URL: 'http://LOCALHOST:3000/mcp/', OAUTH_AUDIENCE: '' });
    const doc = (await (await fetch(`${s.url}/.well-known/oauth-protected-resource/mcp`)).json()) as {
      resource: string;
    };
    assert.equal(doc.resource, CANONICAL);
  });

  it('asks for the least scope (file.list) in the 401 challenge, or the required scopes', async () => {
    const open = await start({ PUBLIC_URL: CANONICAL });
    for (const answer of [await upgrade(open.wsUrl), await initialize(open.httpUrl)]) {
      assert.equal(answer.status, 401);
      assert.equal(parseBearerChallenge(answer.challenge)?.scope, 'file.list');
    }
    const strict = await start({ PUBLIC_URL: CANONICAL, OAUTH_REQUIRED_SCOPES: 'file.read' });
    assert.equal(parseBearerChallenge((await upgrade(strict.wsUrl)).challenge)?.scope, 'file.read');
  });
});
