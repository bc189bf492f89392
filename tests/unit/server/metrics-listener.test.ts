// The real server with METRICS_PORT: metrics on a listener of their own (never the MCP port), off
// by default, closed to browsers and foreign Host names, bounded in connections, with exact counts
// for real WebSocket and HTTP traffic in both eras, and nothing identifying in any label.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { loadConfig } from '../../../mcp-server/src/index.ts';
import { createLogger } from '../../../mcp-server/src/log.ts';
import { METRICS_MAX_CONNECTIONS, startMetricsListener } from '../../../mcp-server/src/metrics/metrics-listener.ts';
import { createServerMetrics } from '../../../mcp-server/src/metrics/server-metrics.ts';
import { waitUntil } from '../../support/wait.ts';
import { call, mcpRequest, openSession } from './helpers/http-client.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';
import { delta, type Sample, sampleValue, scrape } from './helpers/prometheus-text.ts';
import { startTestServer, type TestServer } from './helpers/test-server.ts';
import { closed, connect, initialize, isRefused, request } from './helpers/ws-client.ts';

const P = 'mcp_server_';
const SECRET_NAME = 'payroll-secret-7f3a.txt';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'metrics-test', version: '1' },
};
const READ = { name: 'read-file', arguments: { filePath: SECRET_NAME } };

/** A raw GET of the metrics listener with chosen headers: status only. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

async function openWs(url: string, token: string): Promise<WebSocket> {
  const ws = await connect(url, { token });
  if (isRefused(ws)) throw new Error(`refused ${ws.status}`);
  return ws;
}

describe('metrics listener', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let root: string;
  before(async () => {
    kc = await startLocalIssuer();
    root = mkdtempSync(path.join(tmpdir(), 'metrics-'));
    writeFileSync(path.join(root, SECRET_NAME), 'x'.repeat(100));
    server = await startTestServer(kc, root, { METRICS_PORT: '0' });
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves /metrics on its own port, and the MCP port has no /metrics', async () => {
    assert.ok(server.metricsUrl, 'METRICS_PORT=0 gives a metrics URL');
    const metricsPort = Number(new URL(server.metricsUrl).port);
    assert.notEqual(metricsPort, server.port);
    assert.ok((await scrape(server.metricsUrl)).length > 0);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /mcp_server_/);
  });

  it('counts real WebSocket and HTTP traffic of both eras exactly', async () => {
    const full = await kc.sign();
    const lister = await kc.sign({ scope: 'file.list' });
    const before = await scrape(server.metricsUrl as string);

    // 2025-11-25 over WebSocket: 3 reads, 1 missing file, 1 read without file.read.
    const ws = await openWs(server.wsUrl, full);
    await initialize(ws);
    for (let id = 1; id <= 3; id++) assert.equal((await request(ws, id, 'tools/call', READ)).result.isError, undefined);
    const missing = await request(ws, 4, 'tools/call', { name: 'read-file', arguments: { filePath: 'nope.txt' } });
    assert.equal(missing.result.isError, true);
    const wsLister = await openWs(server.wsUrl, lister);
    await initialize(wsLister);
    assert.equal((await request(wsLister, 1, 'tools/call', READ)).result.isError, true);
    // 2026-07-28 over WebSocket: the first message pins the era.
    const wsModern = await openWs(server.wsUrl, full);
    const modern = await request(wsModern, 1, 'tools/call', { ...READ, _meta: ENVELOPE });
    assert.equal(modern.result.isError, undefined);
    const during = await scrape(server.metricsUrl as string);

    // 2025-11-25 over HTTP: one session, 2 reads; then a read without file.read (403 step-up).
    const session = await openSession(server.httpUrl, full);
    for (const id of [1, 2])
      assert.equal((await call(server.httpUrl, full, session, id, 'tools/call', READ)).status, 200);
    const denied = await mcpRequest(server.httpUrl, {
      token: lister,
      body: { jsonrpc: '2.0', id: 9, method: 'tools/call', params: READ },
    });
    assert.equal(denied.status, 403);
    // 2026-07-28 over HTTP (stateless): one read.
    const stateless = await mcpRequest(server.httpUrl, {
      token: full,
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...READ, _meta: ENVELOPE } },
      headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'read-file' },
    });
    assert.equal(stateless.status, 200, stateless.text);
    // Refused: no token, a forged token, an expired one.
    assert.equal((await mcpRequest(server.httpUrl, { body: { jsonrpc: '2.0', id: 1, method: 'ping' } })).status, 401);
    const forged = `${full.slice(0, -4)}AAAA`;
    const refused = await connect(server.wsUrl, { token: forged });
    assert.ok(isRefused(refused) && refused.status === 401);
    const expired = await kc.sign({ exp: Math.floor(Date.now() / 1000) - 60 });
    const late = await connect(server.wsUrl, { token: expired });
    assert.ok(isRefused(late) && late.status === 401);
    for (const s of [ws, wsLister, wsModern]) s.close();
    await Promise.all([ws, wsLister, wsModern].map((s) => closed(s)));
    await mcpRequest(server.httpUrl, { method: 'DELETE', token: full, session });
    const after = await scrape(server.metricsUrl as string);

    const d = (name: string, labels: Record<string, string> = {}) => delta(before, after, `${P}${name}`, labels);
    const gauge = (s: Sample[], transport: string, era: string) =>
      sampleValue(s, `${P}connections`, { transport, era });
    assert.equal(d('tool_calls_total', { tool: 'read-file', outcome: 'ok' }), 3 + 1 + 2 + 1);
    assert.equal(d('tool_calls_total', { tool: 'read-file', outcome: 'not_found' }), 1);
    assert.equal(
      d('tool_calls_total', { tool: 'read-file', outcome: 'insufficient_scope' }),
      1,
      'WebSocket: the tool answers',
    );
    assert.equal(d('access_denied_total', { transport: 'http', reason: 'insufficient_scope' }), 1, 'HTTP: 403 step-up');
    assert.equal(d('tool_call_duration_seconds_count', { tool: 'read-file' }), 8);
    assert.equal(d('connections_opened_total', { transport: 'websocket' }), 3);
    assert.equal(d('connections_opened_total', { transport: 'http' }), 1);
    assert.equal(d('http_requests_total', { era: '2026-07-28' }), 1);
    // initialize, initialized, 2 calls (the 403 is refused before its era is looked at).
    assert.equal(d('http_requests_total', { era: '2025-11-25' }), 4);
    assert.equal(d('auth_refused_total', { transport: 'http', reason: 'token_missing' }), 1);
    assert.equal(d('auth_refused_total', { transport: 'websocket', reason: 'token_invalid' }), 1);
    assert.equal(d('auth_refused_total', { transport: 'websocket', reason: 'token_expired' }), 1);
    assert.equal(gauge(during, 'websocket', '2025-11-25') - gauge(before, 'websocket', '2025-11-25'), 2);
    assert.equal(gauge(during, 'websocket', '2026-07-28') - gauge(before, 'websocket', '2026-07-28'), 1);
    assert.equal(sampleValue(after, `${P}connections`), 0, 'every connection and session closed');
  });

  it('counts in-band token renewals by result', async () => {
    const token = await kc.sign();
    const before = await scrape(server.metricsUrl as string);
    const ws = await openWs(server.wsUrl, token);
    await initialize(ws);
    assert.equal((await request(ws, 1, 'auth/renew', { token: await kc.sign() })).error, undefined);
    assert.ok((await request(ws, 2, 'auth/renew', { token: 'not a token!' })).error);
    assert.ok((await request(ws, 3, 'auth/renew', { token: await kc.sign({ sub: 'someone-else' }) })).error);
    ws.close();
    await closed(ws);
    const after = await scrape(server.metricsUrl as string);
    const d = (result: string) => delta(before, after, `${P}token_renewals_total`, { result });
    assert.deepEqual([d('ok'), d('token_malformed'), d('token_invalid')], [1, 1, 1]);
  });

  it('puts no token, client id, subject, user name or path in any label', async () => {
    const token = await kc.sign({ azp: 'tenant-acme-billing', sub: 'sub-9d1e', preferred_username: 'carol-q' });
    const ws = await openWs(server.wsUrl, token);
    await initialize(ws);
    await request(ws, 1, 'tools/call', READ);
    await request(ws, 2, 'tools/call', { name: 'read-file', arguments: { filePath: '../etc/passwd' } });
    ws.close();
    await closed(ws);
    const text = await (await fetch(server.metricsUrl as string)).text();
    for (const secret of ['tenant-acme-billing', 'sub-9d1e', 'carol-q', 'payroll', 'passwd', token.slice(0, 20)]) {
      assert.ok(!text.includes(secret), `${secret} does not appear`);
    }
  });

  it('refuses browsers, foreign Host names, other paths and methods', async () => {
    const url = server.metricsUrl as string;
    const port = new URL(url).port;
    assert.equal(await get(url, { origin: 'https://evil.example' }), 403);
    assert.equal(await get(url, { host: `evil.example:${port}` }), 403, 'DNS rebinding');
    assert.equal(await get(url, { host: `localhost:${port}` }), 200);
    assert.equal(await get(url.replace('/metrics', '/metricsx')), 404);
    assert.equal(await get(url, {}, 'POST'), 405);
    assert.equal(await get(url, {}, 'HEAD'), 200);
  });

  it(`holds at most ${METRICS_MAX_CONNECTIONS} connections however many are opened`, async () => {
    // A server of its own: no scraper of the other tests holds a keep-alive connection to it.
    const own = await startTestServer(kc, root, { METRICS_PORT: '0' });
    const sockets: Socket[] = [];
    try {
      const { port } = new URL(own.metricsUrl as string);
      const extra = 24;
      let drops = 0;
      let onDrop = () => {};
      const extraDropped = new Promise<void>((resolve) => {
        onDrop = () => {
          if (++drops === extra) resolve();
        };
      });
      for (let i = 0; i < METRICS_MAX_CONNECTIONS + extra; i++) {
        const s = tcpConnect(Number(port), '127.0.0.1');
        s.once('close', () => onDrop());
        s.on('error', () => {});
        sockets.push(s);
      }
      // The server drops what is over the cap as it accepts it; the rest stay open (idle).
      await extraDropped;
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(drops, extra);
      assert.equal(sockets.filter((s) => !s.destroyed).length, METRICS_MAX_CONNECTIONS);
      for (const s of sockets) s.destroy();
      // The server frees a slot once it sees the close: a scrape succeeds again soon after.
      await waitUntil(
        () =>
          get(own.metricsUrl as string).then(
            (status) => status === 200,
            () => false,
          ),
        5000,
        20,
        'a scrape after the idle connections closed',
      );
    } finally {
      for (const s of sockets) s.destroy();
      await own.close();
    }
  });

  it('cuts a request that does not arrive in time (slowloris)', async () => {
    const timeoutMs = 300;
    const listener = await startMetricsListener({
      registry: createServerMetrics({ processMetrics: false }).registry,
      host: '127.0.0.1',
      port: 0,
      allowedHosts: [],
      logger: createLogger({ level: 'silent' }),
      requestTimeoutMs: timeoutMs,
    });
    try {
      const { port } = new URL(listener.url);
      const socket = tcpConnect(Number(port), '127.0.0.1');
      socket.on('error', () => {});
      const t0 = Date.now();
      socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const cut = await new Promise<string>((resolve) => {
        let answer = '';
        socket.on('data', (c: Buffer) => {
          answer += c.toString();
        });
        socket.once('close', () => resolve(answer));
      });
      const ms = Date.now() - t0;
      assert.equal(cut, '', 'dropped without an answer');
      assert.ok(ms >= timeoutMs - 50 && ms < timeoutMs + 3000, `cut after ${ms} ms`);
    } finally {
      await listener.close();
    }
  });

  it('is off by default and never on the MCP port', async () => {
    const plain = await startTestServer(kc, root);
    try {
      assert.equal(plain.metricsUrl, undefined);
      assert.equal((await fetch(`${plain.url}/metrics`)).status, 404);
    } finally {
      await plain.close();
    }
    assert.throws(
      () => loadConfig({ OAUTH_ISSUER: kc.issuer, PORT: '3999', METRICS_PORT: '3999' }),
      /METRICS_PORT must differ from PORT/,
    );
  });
});
