// challengeFor: the one mapping from authorization errors to HTTP refusals (RFC 6750 §3), and the
// characters a challenge may carry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseBearerChallenge } from 'mcp-ws-common';
import { toChallengeChars } from '../../../common/src/www-authenticate.ts';
import { challengeFor, DEFAULT_KEYS_RETRY_AFTER_SECONDS } from '../../../mcp-server/src/auth/bearer-challenge.ts';
import { ServerError, type ServerErrorCode } from '../../../mcp-server/src/errors.ts';

const ctx = {
  resourceMetadataUrl: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
  scope: 'file.read',
};
const refuse = (code: ServerErrorCode, message = 'why', scopes?: string[]) =>
  challengeFor(new ServerError(code, message, scopes ? { scopes } : {}), ctx);

/** RFC 6750 §3: error, error_description and scope values use %x20-21 / %x23-5B / %x5D-7E only. */
const RFC6750_VALUE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** A whole challenge whose every value is such a quoted string (so it needs no escapes). */
const CHALLENGE = /^Bearer(?: [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*"(?:, [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*")*)?$/;

describe('challengeFor', () => {
  it('no token: 401 with a challenge that has no error code (RFC 6750 §3.1)', () => {
    const r = refuse('token_missing');
    assert.equal(r.status, 401);
    const ch = parseBearerChallenge(r.headers['www-authenticate']);
    assert.deepEqual(ch, { scope: 'file.read', resource_metadata: ctx.resourceMetadataUrl });
  });

  for (const code of ['token_in_query', 'token_malformed'] as const) {
    it(`${code}: 400 invalid_request, with the challenge`, () => {
      const r = refuse(code, 'send exactly one Authorization header');
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request');
      const ch = parseBearerChallenge(r.headers['www-authenticate']);
      assert.equal(ch?.error, 'invalid_request');
      assert.equal(ch?.error_description, 'send exactly one Authorization header');
      assert.equal(ch?.resource_metadata, ctx.resourceMetadataUrl);
    });
  }

  for (const code of ['token_invalid', 'token_expired'] as const) {
    it(`${code}: 401 invalid_token`, () => {
      const r = refuse(code);
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_token');
      assert.equal(parseBearerChallenge(r.headers['www-authenticate'])?.error, 'invalid_token');
      assert.equal(r.headers['retry-after'], undefined);
    });
  }

  it('insufficient_scope: 403 naming the scopes missing', () => {
    const r = refuse('insufficient_scope', 'the token lacks scope file.list', ['file.list']);
    assert.equal(r.status, 403);
    const ch = parseBearerChallenge(r.headers['www-authenticate']);
    assert.equal(ch?.error, 'insufficient_scope');
    assert.equal(ch?.scope, 'file.list');
  });

  for (const code of ['keys_unavailable', 'discovery_failed'] as const) {
    it(`${code}: 503 temporarily_unavailable with Retry-After, no challenge`, () => {
      const r = refuse(code, 'fetching http://keycloak:8080/certs failed');
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], String(DEFAULT_KEYS_RETRY_AFTER_SECONDS));
      assert.equal(r.headers['www-authenticate'], undefined);
      assert.equal(r.body.error, 'temporarily_unavailable');
      assert.doesNotMatch(r.body.error_description, /keycloak/, 'internal URLs stay in the log');
      const custom = challengeFor(new ServerError(code, 'x'), { ...ctx, retryAfterSeconds: 30 });
      assert.equal(custom.headers['retry-after'], '30');
    });
  }

  it('anything else: 500 server_error, without the message', () => {
    const r = refuse('internal_error', 'TypeError at line 3');
    assert.equal(r.status, 500);
    assert.equal(r.body.error, 'server_error');
    assert.doesNotMatch(JSON.stringify(r), /TypeError/);
  });

  it('a description with quotes and backslashes: the header has none, the JSON body keeps them', () => {
    const message = 'claim "aud" check failed: C:\\path';
    const r = refuse('token_invalid', message);
    const header = r.headers['www-authenticate'] ?? '';
    assert.match(header, /error_description="claim 'aud' check failed: C:\/path"/);
    assert.doesNotMatch(header, /\\/);
    assert.equal(r.body.error_description, message);
  });

  it('property: any description and scope yield a challenge of RFC 6750 characters only', () => {
    const text = fc.string({ unit: 'binary', maxLength: 80 });
    fc.assert(
      fc.property(
        text,
        text,
        fc.constantFrom('token_invalid', 'token_malformed', 'insufficient_scope'),
        (message, scope, code) => {
          const r = challengeFor(new ServerError(code, message, { scopes: [scope] }), { ...ctx, scope });
          const header = r.headers['www-authenticate'] ?? '';
          assert.match(header, CHALLENGE);
          const ch = parseBearerChallenge(header);
          assert.ok(ch?.error_description !== undefined && RFC6750_VALUE.test(ch.error_description));
          assert.equal(ch.error_description, toChallengeChars(message));
          // Text already within the allowed set passes unchanged; the body always keeps the original.
          if (RFC6750_VALUE.test(message)) assert.equal(ch.error_description, message);
          assert.equal(r.body.error_description, message);
        },
      ),
      { numRuns: 500 },
    );
  });
});
