// Helpers of tests/integration/resilience-*.test.ts: a real server in-process, a client that keeps
// calling tools while something happens, a JWKS proxy that counts fetches, a bare upgrade probe.

import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import type { ResilientClient } from '../../mcp-client/src/index.ts';
import { ClientCredentialsTokenSource } from '../../mcp-client/src/index.ts';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../mcp-server/src/index.ts';
import { TEST_CLIENTS } from './keycloak.ts';

export { waitUntil } from './wait.ts';

export const DATA = path.resolve(import.meta.dirname, '../../data');

/**
 * Starts the real server on 127.0.0.1 (PORT=0 unless given) and waits until it is ready. With
 * `logs`, its JSON log lines (debug level) are parsed into that array.
 */
export async function startTestServer(
  issuer: string,
  env: Record<string, string> = {},
  logs?: Record<string, unknown>[],
): Promise<ServerHandle> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TARGET_DIR: DATA,
    OAUTH_ISSUER: issuer,
    // Tokens here are requested without resource: aud is the client id mcp-server (compatibility audience).
    OAUTH_AUDIENCE: 'mcp-server',
    // The loops below call ~15/s from one client id: keep the limiter out of the picture.
    RATE_LIMIT_CALLS_PER_SECOND: '1000',
    RATE_LIMIT_BURST: '1000',
    ...env,
  });
  const destination = logs
    ? new Writable({
        write(chunk, _enc, done) {
          for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
          done();
        },
      })
    : undefined;
  const level = logs ? 'debug' : (process.env.TEST_SERVER_LOG ?? 'silent');
  const server = await startServer(config, { logger: createLogger({ level, destination }) });
  await server.ready;
  return server;
}

/** A failed call of {@link CallLoop}: when, and the message. */
export interface LoopFailure {
  readonly atMs: number;
  readonly message: string;
}

/** A client calling list-files and read-file in turn until stopped, counting calls and failures. */
export interface CallLoop {
  readonly calls: number;
  readonly failures: readonly LoopFailure[];
  /** Time (ms since the loop started) of the latest successful call. */
  readonly lastOkAtMs: number;
  /** Resolves once a call started after now succeeds; resolves to the ms it took. */
  nextSuccess(timeoutMs?: number): Promise<number>;
  /** Stops the loop and waits for the call in progress. */
  stop(): Promise<void>;
}

/**
 * Calls tools through `client` one after another (`concurrency` loops in parallel), pausing
 * `pauseMs` between calls. A call counts as failed when it rejects or its result is an error.
 */
export function startCallLoop(
  client: ResilientClient,
  options: { pauseMs?: number; concurrency?: number; readFile?: boolean } = {},
): CallLoop {
  const t0 = Date.now();
  let calls = 0;
  let lastOkAtMs = 0;
  let running = true;
  const failures: LoopFailure[] = [];
  let waiters: { after: number; resolve: (ms: number) => void }[] = [];
  async function worker(n: number): Promise<void> {
    for (let i = n; running; i++) {
      const started = Date.now();
      calls++;
      try {
        const r =
          i % 2 === 0 || options.readFile === false
            ? await client.callTool('list-files', { directory: '.' })
            : await client.callTool('read-file', { filePath: 'sample1.txt' });
        if (r.isError) throw new Error(`tool error: ${JSON.stringify(r.content).slice(0, 300)}`);
        lastOkAtMs = Date.now() - t0;
        const still: typeof waiters = [];
        for (const w of waiters) started >= w.after ? w.resolve(Date.now() - w.after) : still.push(w);
        waiters = still;
      } catch (err) {
        failures.push({ atMs: Date.now() - t0, message: (err as Error).message });
      }
      if (running) await delay(options.pauseMs ?? 50);
    }
  }
  const workers = Array.from({ length: options.concurrency ?? 1 }, (_, n) => worker(n));
  return {
    get calls() {
      return calls;
    },
    failures,
    get lastOkAtMs() {
      return lastOkAtMs;
    },
    nextSuccess(timeoutMs = 30_000) {
      const after = Date.now();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no successful call within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          after,
          resolve: (ms) => {
            clearTimeout(timer);
            resolve(ms);
          },
        });
      });
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** HTTP status of a WebSocket upgrade with this bearer token (101 when accepted; the socket is closed at once). */
export function upgradeStatus(wsUrl: string, token: string): Promise<number> {
  const ws = new WebSocket(wsUrl, ['mcp'], { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.close(1000);
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

/** A forwarding proxy for one JWKS URL that counts the fetches it served (and can play dead). */
export interface JwksProxy {
  readonly url: string;
  readonly fetches: number;
  /** While true the proxy answers 503 (as a load balancer in front of a stopped Keycloak would). */
  down: boolean;
  /** Resolves once the proxy has answered a fetch that arrives after now; rejects after `timeoutMs`. */
  nextFetch(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksProxy(target: string): Promise<JwksProxy> {
  let fetches = 0;
  const state = { down: false };
  const answered = new EventEmitter();
  const server: Server = createServer(async (_req, res) => {
    fetches++;
    if (state.down) {
      res.writeHead(503).end();
    } else {
      try {
        const upstream = await fetch(target);
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
      } catch {
        res.writeHead(502).end();
      }
    }
    answered.emit('fetch');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/certs`,
    get fetches() {
      return fetches;
    },
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    async nextFetch(timeoutMs) {
      await once(answered, 'fetch', { signal: AbortSignal.timeout(timeoutMs) });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A JWT with a header `kid` no key has and a garbage signature (only the kid lookup matters). */
export function unknownKidToken(issuer: string, kid: string): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({ iss: issuer, aud: 'mcp-server', exp: now + 300 })}.${Buffer.from('x'.repeat(256)).toString('base64url')}`;
}

/** Prints the summary line CI shows for a scenario. */
export function summary(scenario: number, figures: Record<string, string | number>): void {
  const rest = Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`# scenario ${scenario}: ${rest}`);
}

/** A client-credentials token source for the realm's `mcp-client`, through the product's own client library. */
export function fullClientTokens(issuer: string, scope: string): ClientCredentialsTokenSource {
  const { clientId, clientSecret } = TEST_CLIENTS.full;
  return new ClientCredentialsTokenSource({ issuer, clientId, clientSecret, scope });
}
