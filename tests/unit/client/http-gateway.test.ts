// A load balancer that loses its upstream mid-request answers 502 (or 504): the client treats it
// as a dropped connection, so a read-only call is re-sent (at most CALL_MAX_ATTEMPTS sends) and
// completes; the gateway here sits in front of the real server and fails chosen tools/call POSTs.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isClientError, type ProtocolChoice, ResilientClient, StaticTokenSource } from 'mcp-client';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';

/** A reverse proxy to `target` that answers `status` instead of forwarding the next `fail` tools/call POSTs. */
async function startGateway(
  target: string,
  status: number,
): Promise<{ url: string; fail: (n: number) => void; close: () => Promise<void>; failed: () => number }> {
  let toFail = 0;
  let failed = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method === 'POST' && toFail > 0 && body.toString().includes('"tools/call"')) {
      toFail -= 1;
      failed += 1;
      res.writeHead(status, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers.set(k, v);
    const upstream = await fetch(new URL(req.url ?? '/', target), {
      method: req.method,
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'transfer-encoding') out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    fail: (n) => {
      toFail = n;
    },
    failed: () => failed,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('a gateway answering 502/504 for a call', () => {
  let kc: LocalIssuer;
  let root: string;
  let server: TestServer;
  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'gateway-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    kc = await startLocalIssuer();
    server = await startTestServer(kc, root);
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const [status, protocol] of [
    [502, '2026-07-28'],
    [504, '2025-11-25'],
  ] as [number, ProtocolChoice][]) {
    it(`${status} (${protocol}): a read-only call is re-sent and completes; every send refused ends in resend_exhausted`, async () => {
      const gw = await startGateway(new URL(server.url).origin, status);
      const client = await ResilientClient.connect({
        url: gw.url,
        protocol,
        tokenSource: new StaticTokenSource(await kc.sign()),
        reconnect: { maxAttempts: 4, baseDelayMs: 10 },
      });
      try {
        gw.fail(1);
        const result = await client.callTool('read-file', { filePath: 'a.txt' });
        assert.equal(gw.failed(), 1);
        assert.match(JSON.stringify(result), /hello/);
        gw.fail(10);
        await assert.rejects(client.callTool('read-file', { filePath: 'a.txt' }), (err) =>
          isClientError(err, 'resend_exhausted'),
        );
        assert.equal(gw.failed(), 1 + 3, 'three sends (CALL_MAX_ATTEMPTS), then the failure');
      } finally {
        await client.close();
        await gw.close();
      }
    });
  }
});
