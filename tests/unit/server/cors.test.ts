// CORS for browser-based MCP hosts against the real server: an origin in ALLOWED_ORIGINS gets its
// origin echoed (with the challenge and session headers exposed) on /mcp and an answered
// preflight; another origin gets no CORS headers and a refused preflight; the metadata is public.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { INITIALIZE } from './helpers/http-client.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';

const APP = 'https://inspector.example';

describe('CORS for allowed browser origins', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let root: string;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'cors-'));
    kc = await startLocalIssuer();
    server = await startTestServer(kc, root, { ALLOWED_ORIGINS: APP });
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  const post = (origin: string, token?: string) =>
    fetch(server.httpUrl, {
      method: 'POST',
      headers: {
        origin,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(INITIALIZE),
    });

  it('echoes an allowed origin on /mcp answers, a 401 challenge included, and exposes its headers', async () => {
    const unauthenticated = await post(APP);
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.headers.get('access-control-allow-origin'), APP);
    assert.match(unauthenticated.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    const ok = await post(APP, await kc.sign());
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    assert.match(ok.headers.get('access-control-expose-headers') ?? '', /Mcp-Session-Id/);
    assert.match(ok.headers.get('vary') ?? '', /Origin/);
    await ok.body?.cancel();
  });

  it('answers a preflight for an allowed origin and MCP headers, refuses other origins and headers', async () => {
    const preflight = (origin: string, headers: string) =>
      fetch(server.httpUrl, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': headers,
        },
      });
    const ok = await preflight(APP, 'authorization, content-type, mcp-protocol-version, mcp-param-path');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const evil = await preflight('https://evil.example', 'authorization');
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const oddHeader = await preflight(APP, 'authorization, x-forwarded-for');
    assert.equal(oddHeader.status, 403);
  });

  it('gives a refused origin no CORS headers (the admission answers 403)', async () => {
    const res = await post('https://evil.example', await kc.sign());
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('serves the public metadata and its preflight to any origin', async () => {
    const url = new URL('/.well-known/oauth-protected-resource/mcp', server.httpUrl);
    const meta = await fetch(url, { headers: { origin: 'https://other.example' } });
    assert.equal(meta.status, 200);
    assert.equal(meta.headers.get('access-control-allow-origin'), '*');
    const pre = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://other.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'mcp-protocol-version',
      },
    });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /mcp-protocol-version/);
  });
});
