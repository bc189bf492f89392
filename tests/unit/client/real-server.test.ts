// The client against the real mcp-server (local issuer): the negotiated revision per transport and
// setting, and in-band renewal over WebSocket with short-lived tokens: the connection outlives
// the first token's exp; a renewal the server refuses (another sub) ends in the 4401 reconnect.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  type GetTokenOptions,
  ResilientClient,
  type SessionEvent,
  StaticTokenSource,
  type TokenSource,
} from 'mcp-client';
import { type LocalIssuer, startLocalIssuer } from '../server/helpers/local-issuer.ts';
import { startTestServer, type TestServer } from '../server/helpers/test-server.ts';

/** Signs a new token of `lifetime` on first use and on each forced refresh; `sub` may change. */
class SigningTokenSource implements TokenSource {
  readonly refreshable = true;
  readonly clientId = 'test-client';
  readonly issued: string[] = [];
  readonly #issuer: LocalIssuer;
  readonly #lifetime: string;
  readonly #subject: (n: number) => string;
  constructor(issuer: LocalIssuer, lifetime: string, subject: (n: number) => string = () => 'user-1') {
    this.#issuer = issuer;
    this.#lifetime = lifetime;
    this.#subject = subject;
  }
  async getToken(o: GetTokenOptions = {}): Promise<string> {
    const cached = this.issued.at(-1);
    if (cached && !o.forceRefresh) return cached;
    const token = await this.#issuer.sign(
      { sub: this.#subject(this.issued.length + 1) },
      { expiresIn: this.#lifetime },
    );
    this.issued.push(token);
    return token;
  }
}

class Events {
  readonly all: SessionEvent[] = [];
  readonly #emitter = new EventEmitter();
  readonly push = (e: SessionEvent): void => {
    this.all.push(e);
    this.#emitter.emit(e.type, e);
  };
  async next<T extends SessionEvent['type']>(type: T): Promise<Extract<SessionEvent, { type: T }>> {
    // Bounded: a renewal that never comes fails the test instead of hanging it.
    const [e] = await once(this.#emitter, type, { signal: AbortSignal.timeout(20_000) });
    return e;
  }
}

describe('mcp-client against the real server', () => {
  let issuer: LocalIssuer;
  let server: TestServer;
  let root: string;
  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'client-real-'));
    writeFileSync(path.join(root, 'a.txt'), 'hello');
    issuer = await startLocalIssuer();
    server = await startTestServer(issuer, root);
  });
  after(async () => {
    await server.close();
    await issuer.close();
    rmSync(root, { recursive: true, force: true });
  });

  const accepted = () => server.logs.filter((l) => l.event === 'auth.accepted' && l.transport === 'websocket').length;

  for (const transport of ['ws', 'http'] as const) {
    for (const [protocol, revision] of [
      ['auto', '2026-07-28'],
      ['2026-07-28', '2026-07-28'],
      ['2025-11-25', '2025-11-25'],
    ] as const) {
      it(`${transport}, ${protocol}: MCP ${revision}`, async () => {
        const url = transport === 'ws' ? server.wsUrl : server.httpUrl;
        const client = await ResilientClient.connect({
          url,
          protocol,
          tokenSource: new SigningTokenSource(issuer, '5m'),
        });
        try {
          assert.equal(client.protocolVersion, revision);
          assert.equal(client.serverInfo?.name, 'mcp-ws-file-server');
          assert.match(JSON.stringify((await client.callTool('read-file', { filePath: 'a.txt' })).content), /hello/);
        } finally {
          await client.close();
        }
      });
    }
  }

  for (const transport of ['ws', 'http'] as const) {
    it(`${transport}, auto: a refused token is upgrade_refused (401), never a reason to fall back`, async () => {
      const url = transport === 'ws' ? server.wsUrl : server.httpUrl;
      const tokenSource = new StaticTokenSource(await issuer.sign({ aud: 'another-server' }));
      await assert.rejects(ResilientClient.connect({ url, tokenSource }), { code: 'upgrade_refused', status: 401 });
    });
  }

  for (const protocol of ['2026-07-28', '2025-11-25'] as const) {
    it(`renews in-band over WebSocket (${protocol}): one connection outlives the first token`, async () => {
      const tokens = new SigningTokenSource(issuer, '3s');
      const events = new Events();
      const before = accepted();
      const client = await ResilientClient.connect({
        url: server.wsUrl,
        protocol,
        tokenSource: tokens,
        onEvent: events.push,
      });
      try {
        const firstExp = decodeJwt(tokens.issued[0] as string).exp as number;
        while (Date.now() <= firstExp * 1000 + 500) await events.next('renewed');
        assert.match(JSON.stringify((await client.callTool('read-file', { filePath: 'a.txt' })).content), /hello/);
        assert.equal(accepted() - before, 1, 'no second upgrade');
        assert.ok(!events.all.some((e) => e.type === 'disconnected' || e.type === 'renewal_stopped'));
        assert.ok(server.logs.some((l) => l.event === 'auth.renewed'));
        for (const t of tokens.issued) assert.ok(!JSON.stringify(server.logs).includes(t), 'no token in the logs');
      } finally {
        await client.close();
      }
    });
  }

  it('a renewal the server refuses (another sub) is tried twice, then the 4401 at exp reconnects', async () => {
    const tokens = new SigningTokenSource(issuer, '3s', (n) => (n === 1 ? 'user-1' : `user-${n}`));
    const events = new Events();
    const client = await ResilientClient.connect({ url: server.wsUrl, tokenSource: tokens, onEvent: events.push });
    try {
      const stopped = await events.next('renewal_stopped');
      assert.deepEqual([stopped.reason, stopped.error], ['refused', 'invalid_token']);
      assert.equal(tokens.issued.length, 3, 'the first token and two fresh ones presented');
      const closed = await events.next('disconnected');
      assert.equal(closed.code, 4401);
      await events.next('reconnected');
      assert.match(JSON.stringify((await client.callTool('read-file', { filePath: 'a.txt' })).content), /hello/);
    } finally {
      await client.close();
    }
  });
});
