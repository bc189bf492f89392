// A request target the URL parser rejects (`GET http://[ HTTP/1.1`, unauthenticated, one line)
// must get an HTTP answer and leave the server running: it once threw inside the request
// listener and took the process down. Checked on the MCP port (plain request, preflight, POST,
// WebSocket upgrade) and on the metrics listener.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';

const TARGETS = ['http://[', 'http://a:b/', 'http://[::1/mcp'];

/** Sends one raw request and resolves with the status line of the answer ('' when closed without one). */
function rawRequest(port: number, requestLine: string, extraHeaders = ''): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c: Buffer) => {
      answer += c.toString();
    });
    socket.on('error', () => {});
    socket.once('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.write(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extraHeaders}\r\n`);
  });
}

describe('malformed request targets', () => {
  let kc: LocalIssuer;
  let server: TestServer;
  let root: string;
  before(async () => {
    kc = await startLocalIssuer();
    root = mkdtempSync(path.join(tmpdir(), 'target-'));
    server = await startTestServer(kc, root, { METRICS_PORT: '0' });
  });
  after(async () => {
    await server.close();
    await kc.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('are answered on the MCP port, and the server keeps serving', async () => {
    for (const target of TARGETS) {
      assert.match(await rawRequest(server.port, `GET ${target} HTTP/1.1`), /^HTTP\/1\.1 400 /, `GET ${target}`);
      assert.match(await rawRequest(server.port, `OPTIONS ${target} HTTP/1.1`), /^HTTP\/1\.1 400 /);
      assert.match(
        await rawRequest(server.port, `POST ${target} HTTP/1.1`, 'Content-Length: 0\r\n'),
        /^HTTP\/1\.1 400 /,
      );
      const upgrade = await rawRequest(
        server.port,
        `GET ${target} HTTP/1.1`,
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
      );
      assert.match(upgrade, /^HTTP\/1\.1 400 /, `upgrade to ${target} is refused as the client's error`);
    }
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('are answered on the metrics listener, which keeps serving', async () => {
    const port = Number(new URL(server.metricsUrl as string).port);
    for (const target of TARGETS) {
      assert.match(await rawRequest(port, `GET ${target} HTTP/1.1`), /^HTTP\/1\.1 404 /, target);
    }
    assert.equal((await fetch(server.metricsUrl as string)).status, 200);
  });
});
