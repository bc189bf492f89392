// Helpers of tests/integration/revocation*.test.ts: a real server with its introspection client
// configured, a forwarding proxy in front of Keycloak that counts requests and can be cut (the
// shared Keycloak container must not be stopped), and clients that call tools over WebSocket and
// Streamable HTTP while an admin acts.

import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type WebSocket from 'ws';
import type { ServerHandle } from '../../mcp-server/src/index.ts';
import { call, openSession } from '../unit/server/helpers/http-client.ts';
import { closed, connect, initialize, isRefused, request } from '../unit/server/helpers/ws-client.ts';
import { TEST_RESOURCE } from './keycloak.ts';
import { startTestServer } from './resilience.ts';

/** The realm's introspection client: named by the canonical URI (keycloak/realm-export.json, development default secret). */
export const INTROSPECTION_CLIENT = {
  clientId: TEST_RESOURCE,
  clientSecret: 'mcp-server-introspection-secret',
} as const;

/** Writes the introspection secret to a file, as a deployment would mount it. */
export function introspectionSecretFile(secret: string = INTROSPECTION_CLIENT.clientSecret): string {
  const file = path.join(tmpdir(), `introspection-secret-${process.pid}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return file;
}

/**
 * Starts the real server with revocation checks every `intervalMs`, as the canonical URI
 * TEST_RESOURCE (tokens must be requested with `resource` = it: {@link resourceToken}).
 */
export function startRevocationServer(
  issuer: string,
  intervalMs: number,
  env: Record<string, string> = {},
  logs?: Record<string, unknown>[],
): Promise<ServerHandle> {
  return startTestServer(
    issuer,
    {
      PUBLIC_URL: TEST_RESOURCE,
      OAUTH_AUDIENCE: '',
      INTROSPECTION_CLIENT_SECRET_FILE: introspectionSecretFile(),
      REVOCATION_CHECK_INTERVAL_MS: String(intervalMs),
      // The tests keep tokens in use with calls as fast as the server answers, on both transports
      // for one client: the per-client rate limit (100 calls/s by default) is not under test here.
      RATE_LIMIT_CALLS_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      ...env,
    },
    logs,
  );
}

/** A forwarding proxy to Keycloak that counts requests per path and can be cut. */
export interface KeycloakProxy {
  /** Base URL standing for Keycloak's (e.g. OAUTH_DISCOVERY_URL = `${url}/realms/x`). */
  readonly url: string;
  /** Requests forwarded (or refused while down) whose path ends with `suffix`. */
  count(suffix: string): number;
  /** While true every request is answered 503, as a load balancer in front of a stopped Keycloak would. */
  down: boolean;
  close(): Promise<void>;
}

export async function startKeycloakProxy(target: string): Promise<KeycloakProxy> {
  const paths: string[] = [];
  const state = { down: false };
  const server: Server = createServer(async (req, res) => {
    paths.push(req.url ?? '');
    if (state.down) return void res.writeHead(503).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
    }
    try {
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      const type = upstream.headers.get('content-type');
      res
        .writeHead(upstream.status, type ? { 'content-type': type } : {})
        .end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      res.writeHead(502).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: (suffix) => paths.filter((p) => p.endsWith(suffix)).length,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A list-files call's arguments (every test token carries file.list). */
export const LIST = { name: 'list-files', arguments: { directory: '.' } };

/** An initialized WebSocket connection with `token`; throws when the upgrade is refused. */
export async function openWs(wsUrl: string, token: string): Promise<WebSocket> {
  const ws = await connect(wsUrl, { token });
  if (isRefused(ws)) throw new Error(`upgrade refused: ${ws.status} ${ws.body}`);
  const init = await initialize(ws);
  if (init.error) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`);
  return ws;
}

/** True when a tool call over `ws` answers a result (not an error). */
export async function wsCallSucceeds(ws: WebSocket, id: number): Promise<boolean> {
  const reply = await request(ws, id, 'tools/call', LIST);
  return reply.result !== undefined && reply.result.isError !== true;
}

/**
 * Keeps calling list-files over `ws` until it closes; resolves with the close code, when it
 * closed, and when the last call succeeded. Rejects when it is still open after `timeoutMs`.
 */
export function wsCallLoop(
  ws: WebSocket,
  timeoutMs: number,
): Promise<{ code: number; closedAt: number; lastOkAt: number }> {
  if (ws.readyState !== ws.OPEN) return Promise.reject(new Error('the WebSocket is not open'));
  let lastOkAt = 0;
  let open = true;
  const timeout = AbortSignal.timeout(timeoutMs);
  const done = Promise.race([
    closed(ws).then(({ code }) => ({ code, closedAt: Date.now(), lastOkAt })),
    new Promise<never>((_resolve, reject) =>
      timeout.addEventListener('abort', () => reject(new Error(`the WebSocket stayed open for ${timeoutMs} ms`))),
    ),
  ]).finally(() => {
    open = false;
  });
  void (async () => {
    for (let id = 1000; open; id++) {
      const ok = await Promise.race([
        wsCallSucceeds(ws, id),
        done.then(
          () => false,
          () => false,
        ),
      ]);
      if (ok) lastOkAt = Date.now();
    }
  })();
  return done;
}

/** One Streamable HTTP session whose calls report their status. */
export interface HttpCaller {
  /** Calls list-files once: the HTTP status, and whether the call itself succeeded. */
  call(): Promise<{ status: number; ok: boolean; wwwAuthenticate: string | undefined; retryAfter: string | undefined }>;
}

export async function openHttp(httpUrl: string, token: string): Promise<HttpCaller> {
  const session = await openSession(httpUrl, token);
  let id = 1;
  return {
    async call() {
      const answer = await call(httpUrl, token, session, id++, 'tools/call', LIST);
      const header = answer.headers['www-authenticate'];
      const retry = answer.headers['retry-after'];
      return {
        status: answer.status,
        ok: answer.status === 200 && answer.reply?.result !== undefined && answer.reply.result.isError !== true,
        wwwAuthenticate: typeof header === 'string' ? header : undefined,
        retryAfter: typeof retry === 'string' ? retry : undefined,
      };
    },
  };
}

/**
 * Calls over HTTP until a call is refused with `status`; resolves with when that happened, then
 * makes `after` more calls and reports whether any of them succeeded. Rejects after `timeoutMs`.
 */
export async function httpUntilRefused(
  caller: HttpCaller,
  status: number,
  timeoutMs: number,
  after = 10,
): Promise<{
  refusedAt: number;
  lastOkAt: number;
  okAfter: number;
  wwwAuthenticate: string | undefined;
  retryAfter: string | undefined;
}> {
  const deadline = Date.now() + timeoutMs;
  let lastOkAt = 0;
  for (;;) {
    const answer = await caller.call();
    if (answer.ok) lastOkAt = Date.now();
    if (answer.status === status) {
      const refusedAt = Date.now();
      let okAfter = 0;
      for (let i = 0; i < after; i++) if ((await caller.call()).ok) okAfter++;
      return { refusedAt, lastOkAt, okAfter, wwwAuthenticate: answer.wwwAuthenticate, retryAfter: answer.retryAfter };
    }
    if (!answer.ok) throw new Error(`unexpected HTTP answer ${answer.status}`);
    if (Date.now() > deadline) throw new Error(`no ${status} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Median and max of a list of numbers. */
export function medianMax(xs: readonly number[]): { median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN };
}
