// A token whose verdict the verifier remembers is admitted without waiting (no timer, no verify
// call), and it still gets every check a first verification gets: exp against the clock, the
// required scopes, the revocation screen, on a request and on an in-band renewal alike.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { type AdmissionOptions, createAdmission } from '../../../mcp-server/src/admission/admission.ts';
import { ServerError } from '../../../mcp-server/src/errors.ts';
import { createLogger } from '../../../mcp-server/src/log.ts';

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const info = (token: string, over: Partial<AuthInfo> = {}): AuthInfo => ({
  token,
  clientId: 'mcp-client',
  scopes: ['file.read'],
  expiresAt: inAnHour(),
  ...over,
});

function setup(memory: Map<string, AuthInfo | ServerError>) {
  const verified: string[] = [];
  const options: AdmissionOptions = {
    async verify(token) {
      verified.push(token);
      return info(token);
    },
    remembered(token) {
      const known = memory.get(token);
      if (known instanceof ServerError) throw known;
      return known;
    },
    requiredScopes: ['file.read'],
    maxTokenBytes: 8192,
    authTimeoutMs: 1000,
    allowedOrigins: [],
    allowedHosts: [],
    maxConnections: 10,
    maxConnectionsPerClient: 10,
    clientBudget: { maxInFlight: 10, maxBytes: 1 << 20 },
    challenge: { resourceMetadataUrl: 'http://127.0.0.1/.well-known/oauth-protected-resource', scope: '' },
    logger: createLogger({ level: 'silent' }),
  };
  return { admission: createAdmission(options), verified };
}

const request = (token: string) =>
  ({
    headers: { authorization: `Bearer ${token}` },
    rawHeaders: ['Authorization', `Bearer ${token}`],
  }) as unknown as IncomingMessage;

describe('admission of a remembered token', () => {
  it('is admitted without a verify call; an unknown token is verified', async () => {
    const { admission, verified } = setup(new Map([['known', info('known')]]));
    const known = await admission.authenticate(request('known'));
    assert.equal(known.ok && known.authInfo.token, 'known');
    const fresh = await admission.authenticate(request('fresh'));
    assert.equal(fresh.ok && fresh.authInfo.token, 'fresh');
    assert.deepEqual(verified, ['fresh'], 'only the unknown token went to verify');
  });

  it('still gets exp, the required scopes and the revocation screen, on a request and a renewal', async () => {
    const memory = new Map<string, AuthInfo | ServerError>([
      ['expired', info('expired', { expiresAt: Math.floor(Date.now() / 1000) - 1 })],
      ['narrow', info('narrow', { scopes: ['file.list'] })],
      ['revoked', new ServerError('token_revoked', 'the token has been revoked')],
    ]);
    const { admission, verified } = setup(memory);
    const refused = async (token: string) => {
      const out = await admission.authenticate(request(token));
      assert.ok(!out.ok, token);
      return [out.refusal.status, out.refusal.reason];
    };
    assert.deepEqual(await refused('expired'), [401, 'token_expired']);
    assert.deepEqual(await refused('narrow'), [403, 'insufficient_scope']);
    assert.deepEqual(await refused('revoked'), [401, 'token_revoked']);
    for (const [token, code] of [
      ['expired', 'token_expired'],
      ['narrow', 'insufficient_scope'],
      ['revoked', 'token_revoked'],
    ] as const) {
      await assert.rejects(admission.verifyToken(token), { code }, `renewal with ${token}`);
    }
    assert.deepEqual(verified, [], 'none of them went to verify');
  });
});
