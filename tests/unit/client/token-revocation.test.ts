// Where the client may send its secret to revoke tokens (RFC 7009): only to a revocation endpoint
// on the token endpoint's origin, as named by the trusted issuer's own metadata.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { revocationEndpointOf } from '../../../mcp-client/src/auth/token-revocation.ts';

const issuer = 'https://kc.example/realms/mcp';
const token_endpoint = `${issuer}/protocol/openid-connect/token`;

describe('revocationEndpointOf', () => {
  it("accepts the issuer's endpoint on the token endpoint's origin", () => {
    const endpoint = `${issuer}/protocol/openid-connect/revoke`;
    assert.equal(revocationEndpointOf({ issuer, token_endpoint, revocation_endpoint: endpoint }), endpoint);
  });

  it('refuses another origin (scheme, host or port), garbage, or none', () => {
    for (const endpoint of [
      'https://evil.example/revoke',
      'http://kc.example/realms/mcp/revoke',
      'https://kc.example:8443/revoke',
      'not a url',
    ]) {
      assert.equal(
        revocationEndpointOf({ issuer, token_endpoint, revocation_endpoint: endpoint }),
        undefined,
        endpoint,
      );
    }
    assert.equal(revocationEndpointOf({ issuer, token_endpoint }), undefined);
    assert.equal(revocationEndpointOf({ issuer, revocation_endpoint: `${issuer}/revoke` }), undefined);
  });
});
