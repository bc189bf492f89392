// What the client trusts, in one place (docs/trust.md):
// - credentials go only to an issuer or token endpoint the user configured;
// - protected resource metadata counts only when fetched from the server's own origin and naming
// the resource the client was pointed at (RFC 9728 §3.3);
// - plain `http:`/`ws:` only to loopback, or to hosts named in INSECURE_HTTP_HOSTS.
import { canonicalResource } from 'mcp-ws-common';
import { ClientError } from '../errors.ts';

export { canonicalResource };

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

/** True for `localhost`, `127.0.0.0/8` and `::1`: traffic to them never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127(\.\d{1,3}){3}$/.test(h);
}

/** `scheme://host:port` of a URL, with `ws:`/`wss:` counted as `http:`/`https:`. */
export function httpOrigin(url: string | URL): string {
  return new URL(canonicalResource(url)).origin;
}

/**
 * Refuses to talk plain `http:`/`ws:` to a host that is neither loopback nor allowed by name.
 * @param what what would travel, for the message ("the client secret", "the access token").
 * @param insecureHosts INSECURE_HTTP_HOSTS entries: `host` or `host:port`, lower case.
 * @throws ClientError `untrusted`
 */
export function requireSecureTransport(url: string | URL, what: string, insecureHosts: readonly string[]): void {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'ws:') return;
  if (isLoopbackHost(u.hostname)) return;
  const host = u.hostname.toLowerCase();
  if (insecureHosts.includes(host) || insecureHosts.includes(u.host.toLowerCase())) return;
  throw new ClientError(
    'untrusted',
    `refusing to send ${what} to ${u.origin} over plain ${u.protocol.slice(0, -1)}: use https/wss, ` +
      `or allow that host by name with INSECURE_HTTP_HOSTS=${host}`,
  );
}

/** Splits an INSECURE_HTTP_HOSTS value (`a, b:8080`) into lower-case entries. */
export function parseInsecureHosts(value: string | undefined): readonly string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h.length > 0);
}
