import type { IncomingMessage } from 'node:http';
import { ServerError } from '../errors.ts';

/** Default longest bearer token accepted, in bytes (Keycloak access tokens are 1-3 KiB). */
export const DEFAULT_MAX_TOKEN_BYTES = 8192;

/** Extracts the token of an `Authorization: Bearer <token>` header value; undefined when absent. */
export function bearerToken(header: string | undefined): string | undefined {
  // RFC 6750 b64token; the scheme is case-insensitive ("bearer" is legal).
  const m = header === undefined ? null : /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return m?.[1];
}

/** Number of `Authorization` header lines (node keeps only the first of duplicates in `headers`). */
export function authorizationHeaderCount(req: IncomingMessage): number {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'authorization') n++;
  return n;
}

/**
 * The bearer token of a request, checked before any parsing: exactly one Authorization header,
 * at most `maxTokenBytes` long, scheme Bearer with a b64token.
 * @throws ServerError `token_malformed` (several Authorization headers, or a Bearer credential
 *   that is not one b64token: RFC 6750 §3.1 invalid_request), `token_invalid` (too long),
 *   `token_missing` (no header, another scheme, or `Bearer` with nothing after it).
 */
export function requestBearerToken(req: IncomingMessage, maxTokenBytes = DEFAULT_MAX_TOKEN_BYTES): string {
  if (authorizationHeaderCount(req) > 1) {
    throw new ServerError('token_malformed', 'send exactly one Authorization header');
  }
  const header = req.headers.authorization;
  if (header !== undefined && Buffer.byteLength(header) > maxTokenBytes + 'Bearer '.length) {
    throw new ServerError('token_invalid', `the token is longer than ${maxTokenBytes} bytes`);
  }
  const token = bearerToken(header);
  if (token !== undefined) return token;
  if (header !== undefined && /^Bearer[ ]+\S/i.test(header)) {
    throw new ServerError('token_malformed', 'the Bearer credential must be one token of RFC 6750 b64token characters');
  }
  throw new ServerError('token_missing', 'a bearer token is required');
}
