// What `ready` and /readyz's readiness mean: resolved once signing keys are loaded; rejected (not
// resolved) when authorization cannot start or the server closed first; verify() answers
// keys_unavailable meanwhile.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAuthorizer } from '../../../mcp-server/src/auth/authorizer.ts';
import { loadConfig } from '../../../mcp-server/src/config.ts';
import { isServerError } from '../../../mcp-server/src/errors.ts';
import { createLogger } from '../../../mcp-server/src/log.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';

const logger = createLogger({ level: 'silent' });
const configFor = (env: Record<string, string>) => loadConfig({ TARGET_DIR: '/tmp', ...env });

describe('authorizer readiness', () => {
  let kc: LocalIssuer;
  before(async () => {
    kc = await startLocalIssuer();
  });
  after(() => kc.close());

  it('ready resolves once keys are loaded, and readiness turns true', async () => {
    const auth = createAuthorizer(configFor({ OAUTH_ISSUER: kc.issuer, OAUTH_AUDIENCE: 'mcp-server' }), logger);
    await auth.ready;
    assert.deepEqual(auth.readiness, { ready: true, reason: undefined });
    const info = await auth.verify(await kc.sign());
    assert.equal(info.clientId, 'test-client');
    auth.close();
  });

  it('ready rejects with discovery_failed when discovery names another issuer; verify answers keys_unavailable', async () => {
    // A trailing slash: the discovery document (fetched without it) names the issuer without it.
    const auth = createAuthorizer(configFor({ OAUTH_ISSUER: `${kc.issuer}/` }), logger, { readyWaitMs: 50 });
    await assert.rejects(auth.ready, (err: unknown) => isServerError(err, 'discovery_failed'));
    assert.equal(auth.readiness.ready, false);
    assert.match(String(auth.readiness.reason), /differs from OAUTH_ISSUER/);
    await assert.rejects(auth.verify(await kc.sign()), (err: unknown) => isServerError(err, 'keys_unavailable'));
    auth.close();
  });

  it('ready rejects with aborted when closed before keys could be loaded', async () => {
    const auth = createAuthorizer(
      configFor({ OAUTH_ISSUER: kc.issuer, OAUTH_JWKS_URL: 'http://127.0.0.1:1/certs' }),
      logger,
    );
    assert.equal(auth.readiness.ready, false);
    auth.close();
    await assert.rejects(auth.ready, (err: unknown) => isServerError(err, 'aborted'));
    assert.equal(auth.readiness.ready, false);
  });
});
