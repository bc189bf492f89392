/**
 * One process holding one Streamable HTTP target and a node:http client that makes `count`
 * read-file 1 KiB calls, 32 in flight (one keep-alive socket each), after a warm-up of the same
 * calls. Run under `valgrind --tool=callgrind` by bench/http-instructions.ts, which differences two
 * call counts so that start-up, warm-up and JIT compilation cancel out.
 * Targets: `ours-2026` / `ours-2025` (the server of the checkout given, 2026-07-28 stateless or a
 * 2025-11-25 session), `sdk-handler` (bench/sdk-handler-peer.ts), `null` (a bare node:http server
 * answering a canned body of the same size: the client's and node's share, to subtract).
 * Usage: node --conditions=development bench/inproc-http.ts <target> <checkout> <count>
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ServerModule from '../mcp-server/src/index.ts';
import { createDataset } from './dataset.ts';
import { startLocalIssuer } from './local-issuer.ts';
import { PAYLOADS } from './rows.ts';
import { startSdkHandlerPeer } from './sdk-handler-peer.ts';
import { MODERN_VERSION, PROTOCOL_VERSION, requestFrames, toolCallFrames } from './wire.ts';

const [target = 'ours-2026', checkout = '.', countText = '1000'] = process.argv.slice(2);
const WARMUP = 500;
const INFLIGHT = 32;
/** Size of the canned answer of the `null` target (a read-file 1 KiB answer of the 2026-07-28 era). */
const NULL_BODY = `{"result":${JSON.stringify({ content: [{ type: 'text', text: 'x'.repeat(1300) }] })},"jsonrpc":"2.0","id":1}`;
const call = PAYLOADS.find((p) => p.id === 'read-1k')!.call;
const modern = target !== 'ours-2025';
const agent = new Agent({ keepAlive: true, maxSockets: INFLIGHT, maxFreeSockets: INFLIGHT });

function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string; sid?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': String(Buffer.byteLength(body)),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          const sid = res.headers['mcp-session-id'];
          resolve({ status: res.statusCode ?? 0, body: text, ...(typeof sid === 'string' ? { sid } : {}) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const issuer = await startLocalIssuer();
const dataset = await createDataset();
const token = await issuer.sign('bench-inproc', 3600);
let close: () => Promise<void>;
let url: URL;
if (target === 'null') {
  const server = createServer((_req, res) => {
    _req.resume();
    _req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(NULL_BODY));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  close = () => new Promise((r) => server.close(() => r()));
} else if (target === 'sdk-handler') {
  const peer = await startSdkHandlerPeer({
    issuer: issuer.issuer,
    jwksUrl: issuer.jwksUrl,
    root: dataset.root,
    logLevel: 'info',
  });
  url = new URL(peer.url);
  close = () => peer.close();
} else {
  const src = (file: string) => pathToFileURL(path.resolve(checkout, 'mcp-server', 'src', file)).href;
  await import(src('threadpool.ts'));
  const { loadConfig, startServer } = (await import(src('index.ts'))) as typeof ServerModule;
  const server = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: dataset.root,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_AUDIENCE: 'mcp-server',
      LOG_LEVEL: 'info', // the audit log is paid as in production (stdout is /dev/null)
      MAX_IN_FLIGHT_PER_CONNECTION: '1000000',
      MAX_IN_FLIGHT_PER_CLIENT: '1000000',
      RATE_LIMIT_CALLS_PER_SECOND: '1000000000',
      RATE_LIMIT_BURST: '1000000000',
    }),
  );
  await server.ready;
  url = new URL((server as typeof server & { httpUrl: string }).httpUrl);
  close = () => server.close();
}

const headers: Record<string, string> = { authorization: `Bearer ${token}` };
if (modern)
  Object.assign(headers, { 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'tools/call', 'mcp-name': call.name });
else {
  const init = requestFrames('initialize', {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'mcp-bench', version: '0.1.0' },
  });
  const opened = await post(url, headers, init(0));
  if (opened.sid === undefined) throw new Error(`initialize: ${opened.status} ${opened.body.slice(0, 200)}`);
  Object.assign(headers, { 'mcp-protocol-version': PROTOCOL_VERSION, 'mcp-session-id': opened.sid });
  await post(url, headers, '{"jsonrpc":"2.0","method":"notifications/initialized"}');
}
const frames = toolCallFrames(call, modern);
const total = WARMUP + Number(countText);
let sent = 0;
await Promise.all(
  Array.from({ length: INFLIGHT }, async () => {
    while (sent < total) {
      const reply = await post(url, headers, frames(++sent));
      if (reply.status !== 200 || reply.body.length < 1000) {
        throw new Error(`a call failed: ${reply.status} ${reply.body.slice(0, 200)}`);
      }
    }
  }),
);
agent.destroy();
await close();
await issuer.close();
await dataset.remove();
process.stderr.write(`calls ${sent}\n`);
