/**
 * One process holding a server (from the checkout given) and a WebSocket client that makes `count`
 * calls of one payload, 32 in flight, after a warm-up of the same calls. Run under
 * `valgrind --tool=callgrind` by bench/ab-instructions.ts, which differences two call counts so that
 * start-up, warm-up and JIT compilation cancel out and what is left is instructions per call.
 * Usage: node --conditions=development bench/inproc-calls.ts <checkout> <payload> <count>
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ServerModule from '../mcp-server/src/index.ts';
import { createDataset } from './dataset.ts';
import { startLocalIssuer } from './local-issuer.ts';
import { PAYLOADS } from './rows.ts';
import { closeWs, frameId, initialize, openWs, toolCallFrames } from './wire.ts';

const [checkout = '.', payloadId = 'read-1k', countText = '1000'] = process.argv.slice(2);
const WARMUP = 500;
const INFLIGHT = 32;
const src = (file: string) => pathToFileURL(path.resolve(checkout, 'mcp-server', 'src', file)).href;
await import(src('threadpool.ts'));
const { loadConfig, startServer } = (await import(src('index.ts'))) as typeof ServerModule;
const payload = PAYLOADS.find((p) => p.id === payloadId);
if (!payload) throw new TypeError(`unknown payload ${payloadId}`);

const issuer = await startLocalIssuer();
const dataset = await createDataset();
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
const ws = await openWs(server.wsUrl, { token: await issuer.sign('bench-inproc', 3600) });
await initialize(ws);
const frames = toolCallFrames(payload.call);
const total = WARMUP + Number(countText);
let sent = 0;
let done = 0;
await new Promise<void>((resolve, reject) => {
  ws.on('message', (data: Buffer) => {
    if (frameId(data) < 1) return;
    if (data.length < 200) reject(new Error(`a call failed: ${data.toString()}`));
    if (++done === total) resolve();
    else if (sent < total) ws.send(frames(++sent));
  });
  for (let i = 0; i < INFLIGHT; i++) ws.send(frames(++sent));
});
await closeWs(ws);
await server.close();
await issuer.close();
await dataset.remove();
process.stderr.write(`calls ${done}\n`);
