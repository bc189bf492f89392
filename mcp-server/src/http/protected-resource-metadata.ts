import type { IncomingMessage, ServerResponse } from 'node:http';

/** The scopes the tools use: file.list for list-files, file.read for read-file. */
export const SUPPORTED_SCOPES: readonly string[] = ['file.list', 'file.read'];

/**
 * The scope a 401 challenge names: what every request needs (OAUTH_REQUIRED_SCOPES), else the
 * least scope that makes the server useful. Never every supported scope: MCP clients request what
 * the challenge names, and a least-privilege client (mcp-lister) must be led to a token its
 * authorization server grants; a tool that needs more answers naming that scope (step-up).
 */
export function challengeScope(requiredScopes: readonly string[]): string {
  return requiredScopes.length > 0 ? requiredScopes.join(' ') : 'file.list';
}

/** The two paths the RFC 9728 document is served at (plain and path-inserted for /mcp). */
export const METADATA_PATHS: readonly string[] = [
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
];

/** RFC 9728 OAuth Protected Resource Metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  resource_name: string;
}

/** Builds the metadata document for this resource. */
export function buildMetadata(publicUrl: string, issuer: string): ProtectedResourceMetadata {
  return {
    resource: publicUrl,
    authorization_servers: [issuer],
    scopes_supported: [...SUPPORTED_SCOPES],
    bearer_methods_supported: ['header'],
    resource_name: 'MCP file server',
  };
}

/**
 * URL of the metadata document for `publicUrl`: the path-inserted form
 * `https://host/.well-known/oauth-protected-resource/mcp` (RFC 9728 §3.1).
 */
export function metadataUrl(publicUrl: string): string {
  const u = new URL(publicUrl);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
  return `${u.origin}/.well-known/oauth-protected-resource${path}`;
}

/** Answers a GET of the metadata document. */
export function serveMetadata(res: ServerResponse, _req: IncomingMessage, doc: ProtectedResourceMetadata): void {
  const body = JSON.stringify(doc);
  res.writeHead(200, {
    'content-type': 'application/json',
    'cache-control': 'public, max-age=300',
    'access-control-allow-origin': '*',
  });
  res.end(body);
}
