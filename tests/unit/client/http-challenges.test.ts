// The Streamable HTTP transport and a token source that signs in when the server asks: the first
// request goes without Authorization when the source has no token yet; a 401's challenge reaches
// the source, and the request is sent again with the token it returns; a 403 insufficient_scope
// is answered with a new token only by a source that steps up, once per request, and otherwise
// fails naming the scope. In front of the SDK's own server, a gate that plays the MCP server's
// authorization: tools/call needs the token "write", everything else "basic" or better.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type GetTokenOptions, isClientError, ResilientClient, type TokenSource } from 'mcp-client';
import { type SdkHttpServer, startSdkHttpServer } from './sdk-http-server.ts';

/** A source that answers challenges from a script: what it was asked, and what it answers. */
class ScriptedSource implements TokenSource {
  readonly refreshable = true;
  readonly asked: GetTokenOptions[] = [];
  readonly stepsUp: boolean;
  #token = '';
  constructor(stepsUp: boolean) {
    this.stepsUp = stepsUp;
  }
  async getToken(options: GetTokenOptions = {}): Promise<string> {
    this.asked.push(options);
    if (options.challenge?.error === 'insufficient_scope') this.#token = 'write';
    else if (options.challenge !== undefined) this.#token = 'basic';
    return this.#token;
  }
}

describe('Streamable HTTP: challenges reach the token source', () => {
  let upstream: SdkHttpServer;
  let gate: Server;
  let url: string;
  const seen: string[] = [];
  before(async () => {
    upstream = await startSdkHttpServer('dual');
    gate = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const auth = req.headers.authorization ?? '(none)';
      const method = req.method === 'POST' ? (JSON.parse(body) as { method?: string }).method : req.method;
      seen.push(`${method} ${auth}`);
      const challenge = (scope: string, error = '') =>
        `Bearer ${error ? `error="${error}", ` : ''}scope="${scope}", resource_metadata="${url}/.well-known/x"`;
      if (auth === '(none)') {
        res.writeHead(401, { 'www-authenticate': challenge('mcp:basic') }).end();
        return;
      }
      if (method === 'tools/call' && auth !== 'Bearer write') {
        res.writeHead(403, { 'www-authenticate': challenge('mcp:write', 'insufficient_scope') }).end();
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host')) as Record<
        string,
        string
      >;
      const up = await fetch(upstream.url, { method: req.method, headers, ...(body ? { body } : {}) });
      res.writeHead(up.status, Object.fromEntries(up.headers));
      if (up.body) for await (const chunk of up.body) res.write(chunk);
      res.end();
    });
    gate.listen(0, '127.0.0.1');
    await once(gate, 'listening');
    url = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/mcp`;
  });
  after(async () => {
    gate.closeAllConnections();
    gate.close();
    await upstream.close();
  });

  it('asks without a token, signs in on the 401 with its challenge, steps up on the 403', async () => {
    seen.length = 0;
    const source = new ScriptedSource(true);
    const client = await ResilientClient.connect({ url, tokenSource: source, reconnect: { maxAttempts: 0 } });
    try {
      await client.callTool('list-files', { directory: '.' });
    } finally {
      await client.close();
    }
    assert.equal(seen[0], 'server/discover (none)', 'the first request carries no token');
    assert.deepEqual(
      source.asked.filter((o) => o.challenge !== undefined).map((o) => [o.challenge?.error, o.challenge?.scope]),
      [
        [undefined, 'mcp:basic'],
        ['insufficient_scope', 'mcp:write'],
      ],
    );
    assert.ok(source.asked.every((o) => o.challenge === undefined || o.forceRefresh === true));
    assert.deepEqual(
      seen.filter((s) => s.startsWith('tools/call')),
      ['tools/call Bearer basic', 'tools/call Bearer write'],
      'the call is sent again with the stepped-up token, once',
    );
  });

  it('fails naming the scope when the source does not step up, without asking it again', async () => {
    const source = new ScriptedSource(false);
    const client = await ResilientClient.connect({ url, tokenSource: source, reconnect: { maxAttempts: 0 } });
    try {
      await assert.rejects(
        client.callTool('list-files', { directory: '.' }),
        (err) => isClientError(err, 'insufficient_scope') && err.scope === 'mcp:write',
      );
    } finally {
      await client.close();
    }
    assert.ok(!source.asked.some((o) => o.challenge?.error === 'insufficient_scope'));
  });
});
