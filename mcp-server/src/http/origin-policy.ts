/**
 * Origin and Host checks against cross-site WebSocket hijacking and DNS rebinding. Pure: no I/O,
 * shared by the WebSocket upgrade and the Streamable HTTP transport.
 *
 * Policy:
 * - No `Origin` header: allowed. Browsers always send one on WebSocket upgrades and cross-site
 *   fetches; CLI and server-to-server clients do not, and a bearer token is still required.
 * - `Origin` present: allowed only when it equals (after normalisation) one of `allowed`. An
 *   empty list refuses every browser origin, including `null` (sandboxed frames, file://).
 * - `*` in `allowed` accepts any origin (development only; documented as unsafe).
 */

/**
 * Normalises an origin (`scheme://host[:port]`) for comparison: lowercase scheme and host,
 * default ports dropped, no path. Returns undefined for anything that is not an http(s)/ws(s)
 * origin (including `null`).
 */
export function normalizeOrigin(origin: string): string | undefined {
  const trimmed = origin.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'null') return undefined;
  let u: URL;
  try {
    u = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return undefined;
  // An origin has no credentials, path, query or fragment.
  if (u.username !== '' || u.password !== '' || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
    return undefined;
  }
  return u.origin;
}

/**
 * Parses `ALLOWED_ORIGINS` (comma-separated exact origins, or `*`).
 * @throws TypeError when an entry is not a valid origin.
 */
export function parseAllowedOrigins(value: string): readonly string[] {
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return entries.map((entry) => {
    if (entry === '*') return entry;
    const normalized = normalizeOrigin(entry);
    if (normalized === undefined) throw new TypeError(`not an origin (scheme://host[:port]): "${entry}"`);
    return normalized;
  });
}

/**
 * Whether a request carrying `origin` (the `Origin` header, undefined when absent; an array when
 * repeated) may proceed. `allowed` holds normalised origins as returned by
 * {@link parseAllowedOrigins}.
 */
export function isOriginAllowed(origin: string | string[] | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  // Several Origin headers: ambiguous, refuse.
  if (Array.isArray(origin)) return false;
  if (allowed.includes('*')) return true;
  const normalized = normalizeOrigin(origin);
  return normalized !== undefined && allowed.includes(normalized);
}

/**
 * Whether the `Host` header names this server (DNS rebinding defence: a page on evil.example
 * whose name later resolves to 127.0.0.1 still sends `Host: evil.example`). `allowedHosts` are
 * lowercase host names or `host:port`; an empty list disables the check. A host entry without a
 * port matches any port.
 */
export function isHostAllowed(host: string | undefined, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true;
  if (host === undefined || host === '') return false;
  let parsed: URL;
  try {
    parsed = new URL(`http://${host.trim()}`);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password || parsed.pathname !== '/') return false;
  const name = parsed.hostname.toLowerCase();
  const withPort = parsed.port === '' ? name : `${name}:${parsed.port}`;
  return allowedHosts.some((h) => {
    const entry = h.toLowerCase();
    return entry === withPort || entry === name;
  });
}

/** Distinct allowed Host values {@link hostChecker} remembers (a client sends the same one every time). */
const REMEMBERED_HOSTS = 16;

/**
 * {@link isHostAllowed} for one `allowedHosts` list, remembering the first {@link REMEMBERED_HOSTS}
 * distinct values it allowed (a verdict depends on the value alone, so a remembered one is exact).
 * Refused values are never remembered, so requests before any token check cannot fill it with
 * bogus hosts; they and any value past the bound are checked each time.
 */
export function hostChecker(allowedHosts: readonly string[]): (host: string | undefined) => boolean {
  const allowed = new Set<string>();
  return (host) => {
    if (host !== undefined && allowed.has(host)) return true;
    const verdict = isHostAllowed(host, allowedHosts);
    if (verdict && host !== undefined && allowed.size < REMEMBERED_HOSTS) allowed.add(host);
    return verdict;
  };
}

/** Host names a server bound to loopback accepts by default (DNS rebinding protection). */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** The JSON error of a 403 for a refused origin or host (`{ error, error_description }`). */
export function forbiddenError(what: 'origin' | 'host'): { error: string; error_description: string } {
  return {
    error: 'forbidden',
    error_description: what === 'origin' ? 'origin not allowed (ALLOWED_ORIGINS)' : 'host not allowed (ALLOWED_HOSTS)',
  };
}

/** {@link forbiddenError} serialised, for writing a response body directly. */
export function forbiddenBody(what: 'origin' | 'host'): string {
  return JSON.stringify(forbiddenError(what));
}
