/**
 * The canonical URI of an MCP server: the RFC 8707 `resource` a client asks a token for, the
 * RFC 9728 `resource` the server publishes, and the `aud` the server expects. `ws:` reads as
 * `http:` and `wss:` as `https:` (one endpoint serves both transports); scheme and host are
 * lower-cased, the default port, the fragment and a trailing slash after a path are dropped.
 * @throws TypeError when `url` is not an absolute URL.
 */
export function canonicalResource(url: string | URL): string {
  const u = new URL(url);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  u.hash = '';
  if (u.pathname.length > 1) u.pathname = u.pathname.replace(/\/+$/, '');
  return u.href;
}
