// /metrics of the real server against the real Keycloak, scraped over a real socket on the metrics
// listener: tool calls over WebSocket and Streamable HTTP (ok, a read without file.read, refused
// credentials, a refused browser origin) move their counters by exactly what was done; the
// server's own JWKS load and its introspection rounds show; a token revoked at Keycloak closes its
// WebSocket and counts as a withdrawal; the MCP port itself has no /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from 'mcp-ws-common';
import type WebSocket from 'ws';
import type { ServerHandle } from '../../mcp-server/src/index.ts';
import { keycloak, TEST_CLIENTS, TEST_RESOURCE } from '../support/keycloak.ts';
import { LIST, startRevocationServer } from '../support/revocation.ts';
import { waitUntil } from '../support/wait.ts';
import { call, mcpRequest, openSession, rpc } from '../unit/server/helpers/http-client.ts';
import { delta, type Sample, sampleValue, scrape } from '../unit/server/helpers/prometheus-text.ts';
import { closed, connect, initialize, isRefused, request } from '../unit/server/helpers/ws-client.ts';

const kc = keycloak();
const P = 'mcp_server_';
const READ = { name: 'read-file', arguments: { filePath: 'sample1.txt' } };
/** Revocation rounds run this often, so the test sees introspection within a second or two. */
const INTERVAL_MS = 500;

async function openWs(url: string, token: string): Promise<WebSocket> {
  const ws = await connect(url, { token });
  if (isRefused(ws)) throw new Error(`upgrade refused: ${ws.status} ${ws.body}`);
  await initialize(ws);
  return ws;
}

/** RFC 7009 revocation by the client itself, as mcp-client does on close. */
async function revoke(token: string): Promise<void> {
  const { clientId, clientSecret } = TEST_CLIENTS.full;
  const res = await fetch(`${kc.issuer}/protocol/openid-connect/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token,
      token_type_hint: 'access_token',
      client_id: clientId,
      client_secret: clientSecret,
    }),
  });
  assert.equal(res.status, 200);
}

describe('metrics of the real server', () => {
  let server: ServerHandle;
  let metricsUrl: string;
  before(async () => {
    server = await startRevocationServer(kc.issuer, INTERVAL_MS, { METRICS_PORT: '0' });
    metricsUrl = server.metricsUrl as string;
  });
  after(() => server.close());

  it('counts calls, denials and refusals over both transports by exactly what was done', async () => {
    const full = await kc.token('full', 'file.read file.list', TEST_RESOURCE);
    const lister = await kc.token('lister', 'file.list', TEST_RESOURCE);
    const otherAudience = await kc.token('full'); // aud mcp-server: not this server's canonical URI
    const before = await scrape(metricsUrl);

    const ws = await openWs(server.wsUrl, full);
    assert.equal((await request(ws, 1, 'tools/call', LIST)).result.isError, undefined);
    assert.equal((await request(ws, 2, 'tools/call', READ)).result.isError, undefined);
    const wsLister = await openWs(server.wsUrl, lister);
    assert.equal((await request(wsLister, 1, 'tools/call', READ)).result.isError, true, 'no file.read');
    const during = await scrape(metricsUrl);

    const session = await openSession(server.httpUrl, full);
    assert.equal((await call(server.httpUrl, full, session, 1, 'tools/call', READ)).status, 200);
    const stepUp = await mcpRequest(server.httpUrl, { token: lister, body: rpc(1, 'tools/call', READ) });
    assert.equal(stepUp.status, 403);
    assert.equal((await mcpRequest(server.httpUrl, { token: otherAudience, body: rpc(1, 'ping') })).status, 401);
    const anonymous = await connect(server.wsUrl);
    assert.ok(isRefused(anonymous) && anonymous.status === 401);
    const browser = await mcpRequest(server.httpUrl, {
      token: full,
      body: rpc(1, 'ping'),
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(browser.status, 403);
    for (const s of [ws, wsLister]) s.close();
    await Promise.all([closed(ws), closed(wsLister)]);
    await mcpRequest(server.httpUrl, { method: 'DELETE', token: full, session });
    const after = await scrape(metricsUrl);

    const d = (name: string, labels: Record<string, string> = {}) => delta(before, after, `${P}${name}`, labels);
    assert.equal(d('tool_calls_total', { tool: 'list-files', outcome: 'ok' }), 1);
    assert.equal(d('tool_calls_total', { tool: 'read-file', outcome: 'ok' }), 2);
    assert.equal(d('tool_calls_total', { tool: 'read-file', outcome: 'insufficient_scope' }), 1);
    assert.equal(d('tool_call_duration_seconds_count'), 3, 'the three calls that ran');
    assert.equal(d('access_denied_total', { transport: 'http', reason: 'insufficient_scope' }), 1);
    assert.equal(d('access_denied_total', { transport: 'http', reason: 'origin_forbidden' }), 1);
    assert.equal(d('auth_refused_total', { transport: 'http', reason: 'token_invalid' }), 1);
    assert.equal(d('auth_refused_total', { transport: 'websocket', reason: 'token_missing' }), 1);
    assert.equal(d('auth_refused_total'), 2, 'no other refusal');
    assert.equal(d('connections_opened_total', { transport: 'websocket' }), 2);
    assert.equal(d('connections_opened_total', { transport: 'http' }), 1);
    const wsGauge = (s: Sample[]) => sampleValue(s, `${P}connections`, { transport: 'websocket', era: '2025-11-25' });
    assert.equal(wsGauge(during) - wsGauge(before), 2);
    assert.equal(sampleValue(after, `${P}connections`), 0);
    assert.equal(
      sampleValue(after, `${P}jwks_fetches_total`, { reason: 'load', result: 'ok' }),
      1,
      'loaded once at start',
    );
  });

  it('shows introspection rounds, and a token revoked at Keycloak as a withdrawn connection', async () => {
    const token = await kc.token('full', 'file.list', TEST_RESOURCE);
    const before = await scrape(metricsUrl);
    const ws = await openWs(server.wsUrl, token);
    await waitUntil(
      async () => delta(before, await scrape(metricsUrl), `${P}introspection_requests_total`, { result: 'active' }) > 0,
      10 * INTERVAL_MS,
      100,
      'an introspection of the live token',
    );
    const tracked = sampleValue(await scrape(metricsUrl), `${P}revocation_tracked_tokens`);
    assert.ok(tracked >= 1, `tracked tokens ${tracked}`);
    const gone = closed(ws);
    await revoke(token);
    assert.equal((await gone).code, CloseCode.TOKEN_REVOKED);
    const after = await scrape(metricsUrl);
    assert.equal(delta(before, after, `${P}revocation_withdrawals_total`, { reason: 'revoked' }), 1);
    assert.ok(delta(before, after, `${P}introspection_requests_total`, { result: 'inactive' }) >= 1);
    assert.equal(delta(before, after, `${P}introspection_requests_total`, { result: 'error' }), 0);
  });

  it('serves nothing of it on the MCP port', async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /mcp_server_/);
  });
});
