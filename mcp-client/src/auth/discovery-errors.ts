import { ClientError } from '../errors.ts';

/** A discovery failure as a ClientError: `issuer_mismatch` with both issuers, else `token_endpoint`. */
export function mapDiscoveryError(err: unknown, issuer: URL): ClientError {
  const got = findIssuerMismatch(err);
  if (got !== undefined) {
    return new ClientError(
      'issuer_mismatch',
      `issuer mismatch: expected ${issuer.href}, got ${got}: set OAUTH_ISSUER to exactly the issuer the ` +
        `server publishes (Keycloak's issuer follows the host name used to reach it)`,
      { cause: err },
    );
  }
  const status = (err as { cause?: { status?: unknown } }).cause?.status;
  const what = typeof status === 'number' ? `HTTP ${status}` : describeFailure(err);
  return new ClientError(
    'token_endpoint',
    `discovery of the issuer ${issuer.href} failed (${what}): check OAUTH_ISSUER and that the authorization server is running`,
    { cause: err, ...(typeof status === 'number' ? { status } : {}) },
  );
}

/** Walks the cause chain of an openid-client error for an `issuer` attribute comparison failure. */
export function findIssuerMismatch(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const c = e as { attribute?: unknown; body?: { issuer?: unknown }; cause?: unknown };
    if (c.attribute === 'issuer') return String(c.body?.issuer);
    e = c.cause;
  }
  return undefined;
}

/** A short reason for a network-level failure: the errno code when there is one. */
export function describeFailure(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      return code === 'ECONNREFUSED' ? 'connection refused (ECONNREFUSED)' : code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  const messages: string[] = [];
  for (let c: unknown = err, i = 0; c instanceof Error && i < 5; c = c.cause, i++) {
    if (c.message !== 'fetch failed') messages.push(c.message);
  }
  return messages.join(': ') || String(err);
}
