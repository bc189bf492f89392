/**
 * RFC 6750 `WWW-Authenticate: Bearer` challenges: built by the server, parsed by the client.
 * Parameters carried here: realm, error, error_description, scope, resource_metadata (RFC 9728).
 */
export interface BearerChallenge {
  realm?: string;
  /** `invalid_request`, `invalid_token` or `insufficient_scope` (RFC 6750 §3.1). */
  error?: string;
  error_description?: string;
  /** Space-separated scopes needed. */
  scope?: string;
  /** URL of the protected resource metadata document (RFC 9728 §5.1). */
  resource_metadata?: string;
}

const ORDER: readonly (keyof BearerChallenge)[] = ['realm', 'error', 'error_description', 'scope', 'resource_metadata'];

/**
 * Maps text to the characters RFC 6750 §3 allows in `error_description` (and `error`, `scope`):
 * %x20-21 / %x23-5B / %x5D-7E. `"` becomes `'`, `\` becomes `/`, control characters become a
 * space and anything else outside printable ASCII becomes `?`, so the quoted-string never needs
 * an escape and any RFC 6750 client can read it.
 */
export function toChallengeChars(value: string): string {
  return (
    value
      // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .replace(/[^\u0020-\u007e]/g, '?')
      .replace(/"/g, "'")
      .replace(/\\/g, '/')
  );
}

/**
 * Formats a `Bearer` challenge, e.g. `Bearer error="invalid_token", scope="file.read"`. Every value
 * passes through {@link toChallengeChars}, so the header carries no escapes (URLs are unaffected:
 * a serialized URL has no `"` or `\`).
 */
export function formatBearerChallenge(challenge: BearerChallenge): string {
  const params = ORDER.filter((k) => challenge[k] !== undefined).map(
    (k) => `${k}="${toChallengeChars(challenge[k] as string)}"`,
  );
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

const PARAM = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;

/**
 * Parses the `Bearer` challenge out of a `WWW-Authenticate` value. Returns undefined when the
 * header has no Bearer challenge. Unknown parameters are ignored.
 */
export function parseBearerChallenge(header: string | readonly string[] | undefined): BearerChallenge | undefined {
  if (header === undefined) return undefined;
  const value = typeof header === 'string' ? header : header.join(', ');
  const start = value.search(/(?:^|[\s,])Bearer(?:\s|$)/i);
  if (start < 0) return undefined;
  const rest = value.slice(start).replace(/^[\s,]*Bearer/i, '');
  const out: BearerChallenge = {};
  for (const m of rest.matchAll(PARAM)) {
    const key = m[1]?.toLowerCase();
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    if (key && (ORDER as readonly string[]).includes(key) && !(key in out)) {
      out[key as keyof BearerChallenge] = raw;
    }
  }
  return out;
}
