// The client never hands its secret to a stranger: the CLI against hostile MCP servers, on both
// transports. Each case has a fake token endpoint (the stranger) that must receive nothing at all,
// and expects exit code 3 (authorization) with one stderr line naming the setting to change.
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { ResourceDiscoveryTokenSource } from 'mcp-client';
import { main } from '../../../mcp-client/src/cli.ts';
import { FakeTokenEndpoint } from './fake-token-endpoint.ts';
import { HostileServer, type HostileServerOptions } from './trust-hostile-server.ts';

const SECRET = 's3cret';
const AUTH_EXIT = 3;

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

async function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), bytes: () => undefined };
  const code = await main(args, { OAUTH_CLIENT_ID: 'mcp-client', OAUTH_CLIENT_SECRET: SECRET, ...env }, io);
  return { code, out, err };
}

/** One refusal line on stderr that names `setting`, exit 3, and the secret nowhere. */
function assertRefused(run: Run, setting: string): void {
  assert.equal(run.code, AUTH_EXIT, run.err.join('\n'));
  assert.deepEqual(run.out, []);
  assert.equal(run.err.length, 1, run.err.join('\n'));
  assert.doesNotMatch(run.err[0] as string, /\n/);
  assert.match(run.err[0] as string, new RegExp(setting));
  assert.ok(!(run.err[0] as string).includes(SECRET), 'the secret must never be printed');
}

function assertUntouched(stranger: FakeTokenEndpoint): void {
  assert.deepEqual(stranger.seen, [], 'the stranger must receive no request');
  assert.equal(stranger.connections, 0, 'the stranger must not even be connected to');
}

/** A non-loopback IPv4 address of this machine (reachable locally, but not "loopback" to the client). */
function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this test needs a non-loopback IPv4 interface');
}

const transports = [
  { name: 'WebSocket', url: (h: HostileServer) => h.wsUrl },
  { name: 'Streamable HTTP', url: (h: HostileServer) => h.httpUrl },
] as const;

describe('the client against a hostile MCP server', () => {
  let stranger: FakeTokenEndpoint;
  const servers: HostileServer[] = [];
  const hostile = async (opts: HostileServerOptions) => {
    const h = await HostileServer.start(opts);
    servers.push(h);
    return h;
  };

  before(async () => {
    stranger = await FakeTokenEndpoint.start({ secrets: [SECRET] });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await stranger.stop();
  });

  for (const t of transports) {
    describe(t.name, () => {
      it('same-origin metadata naming a foreign issuer: refuses, names OAUTH_ISSUER', async () => {
        const h = await hostile({
          metadata: (self: HostileServer) => ({
            resource: self.httpUrl,
            authorization_servers: [stranger.issuer],
          }),
        });
        const run = await cli(['ls'], { SERVER_URL: t.url(h) });
        assertRefused(run, `OAUTH_ISSUER=${stranger.issuer}`);
        assertUntouched(stranger);
        assert.deepEqual(h.bearers, [], 'no token was presented either');
      });

      it('metadata for another resource: refuses (RFC 9728 §3.3), names OAUTH_RESOURCE', async () => {
        const h = await hostile({
          metadata: () => ({ resource: 'http://127.0.0.1:1/elsewhere', authorization_servers: [stranger.issuer] }),
        });
        const run = await cli(['ls'], { SERVER_URL: t.url(h) });
        assertRefused(run, 'OAUTH_RESOURCE');
        assert.match(run.err[0] as string, /RFC 9728/);
        assertUntouched(stranger);
      });

      it('metadata redirected to another origin: not followed, nothing sent', async () => {
        const evil = await hostile({
          metadata: (self: HostileServer) => ({ resource: self.httpUrl, authorization_servers: [stranger.issuer] }),
        });
        const h = await hostile({
          redirectMetadataTo: () => `${evil.origin}/.well-known/oauth-protected-resource/mcp`,
        });
        const run = await cli(['ls'], { SERVER_URL: t.url(h) });
        assertRefused(run, 'OAUTH_ISSUER');
        assert.deepEqual(evil.seen, [], 'the redirect target must not be fetched');
        assertUntouched(stranger);
      });

      it('challenge pointing at another origin: the configured issuer alone gets the secret', async () => {
        const trusted = await FakeTokenEndpoint.start({ secrets: [SECRET] });
        try {
          const evil = await hostile({
            metadata: (self: HostileServer) => ({ resource: self.httpUrl, authorization_servers: [stranger.issuer] }),
          });
          const h = await hostile({
            challengeMetadataUrl: () => `${evil.origin}/.well-known/oauth-protected-resource`,
          });
          const run = await cli(['ls'], { SERVER_URL: t.url(h), OAUTH_ISSUER: trusted.issuer });
          assert.equal(run.code, AUTH_EXIT, run.err.join('\n'));
          assert.ok(!run.err.join('\n').includes(SECRET));
          // A token, then forced refreshes after each 401 (bounded): all from the configured issuer, for this server.
          assert.ok(trusted.requests >= 1 && trusted.requests <= 4, `${trusted.requests} token requests`);
          console.log(`# ${t.name}, 401 with a foreign resource_metadata: ${trusted.requests} token requests`);
          for (const form of trusted.forms) assert.equal(form.get('resource'), h.httpUrl);
          assert.deepEqual(evil.seen, [], 'the cross-origin metadata must not be fetched');
          assertUntouched(stranger);
        } finally {
          await trusted.stop();
        }
      });

      it('plain http to a host that is not loopback: refuses, names INSECURE_HTTP_HOSTS', async () => {
        const lan = lanAddress();
        const remote = await FakeTokenEndpoint.start({ secrets: [SECRET], host: '0.0.0.0' });
        try {
          const tokenUrl = remote.tokenUrl.replace('127.0.0.1', lan);
          const h = await hostile({});
          const run = await cli(['ls'], { SERVER_URL: t.url(h), OAUTH_TOKEN_URL: tokenUrl });
          assertRefused(run, `INSECURE_HTTP_HOSTS=${lan}`);
          assertUntouched(remote);
          // Opting in by name lets the request through (the server then refuses the token).
          const allowed = await cli(['ls'], {
            SERVER_URL: t.url(h),
            OAUTH_TOKEN_URL: tokenUrl,
            INSECURE_HTTP_HOSTS: lan,
          });
          assert.equal(allowed.code, AUTH_EXIT);
          assert.ok(remote.requests >= 1, 'the allowed host got the token request');
          const server = t.url(h).replace('127.0.0.1', lan);
          assertRefused(await cli(['ls'], { SERVER_URL: server, OAUTH_ACCESS_TOKEN: 'x' }), 'INSECURE_HTTP_HOSTS');
        } finally {
          await remote.stop();
        }
      });
    });
  }

  it('a library caller given a cross-origin metadata URL fetches nothing from that origin', async () => {
    const evil = await hostile({
      metadata: (self: HostileServer) => ({ resource: self.httpUrl, authorization_servers: [stranger.issuer] }),
    });
    const h = await hostile({});
    const source = new ResourceDiscoveryTokenSource({
      serverUrl: h.wsUrl,
      clientId: 'mcp-client',
      clientSecret: SECRET,
      resourceMetadataUrl: `${evil.origin}/.well-known/oauth-protected-resource/mcp`,
      trustedIssuers: [stranger.issuer],
    });
    await assert.rejects(source.getToken(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'token_endpoint');
      return true;
    });
    assert.deepEqual(evil.seen, []);
    assertUntouched(stranger);
  });
});
