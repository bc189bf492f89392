import type { CallToolResult, Tool } from '@modelcontextprotocol/client';
import type { JWTPayload } from 'jose';

/** One line per tool: name, title or description, and hints. */
export function formatTools(tools: readonly Tool[]): string {
  if (tools.length === 0) return '(no tools: the token may call none)';
  const width = Math.max(...tools.map((t) => t.name.length));
  return tools
    .map((t) => {
      const about = t.title ?? t.description?.split('\n')[0] ?? '';
      const ro = t.annotations?.readOnlyHint ? ' [read-only]' : '';
      return `${t.name.padEnd(width)}  ${about}${ro}`;
    })
    .join('\n');
}

interface Entry {
  name?: unknown;
  path?: unknown;
  type?: unknown;
  size?: unknown;
  modified?: unknown;
}

/** A directory listing as a table when structuredContent has `entries`, else the generic rendering. */
export function formatListing(result: CallToolResult): string {
  const sc = result.structuredContent as { entries?: unknown; nextCursor?: unknown } | undefined;
  if (!sc || !Array.isArray(sc.entries)) return formatResult(result);
  const entries = sc.entries as Entry[];
  if (entries.length === 0) return '(empty)';
  const rows = entries.map((e) => [
    String(e.type ?? ''),
    typeof e.size === 'number' ? humanSize(e.size) : '',
    typeof e.modified === 'string' ? e.modified.replace(/\.\d+Z$/, 'Z') : '',
    String(e.path ?? e.name ?? ''),
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const lines = rows.map((r) =>
    [
      (r[0] as string).padEnd(widths[0] ?? 0),
      (r[1] as string).padStart(widths[1] ?? 0),
      (r[2] as string).padEnd(widths[2] ?? 0),
      r[3],
    ]
      .join('  ')
      .trimEnd(),
  );
  if (typeof sc.nextCursor === 'string') lines.push(`(more entries: continue with cursor ${sc.nextCursor})`);
  return lines.join('\n');
}

/** Any tool result, readably: text blocks as text, other blocks summarized, else structuredContent as JSON. */
export function formatResult(result: CallToolResult): string {
  const parts: string[] = [];
  // The text block that mirrors structuredContent serves clients that ignore structuredContent; skip it.
  const mirror = result.structuredContent === undefined ? undefined : JSON.stringify(result.structuredContent);
  for (const block of result.content) {
    if (block.type === 'text') {
      if (block.text !== mirror) parts.push(block.text);
    } else if (block.type === 'resource') {
      const r = block.resource;
      if ('text' in r && typeof r.text === 'string') parts.push(r.text);
      else if ('blob' in r && typeof r.blob === 'string') {
        const bytes = Buffer.from(r.blob, 'base64').length;
        parts.push(`[binary ${r.mimeType ?? 'data'}, ${humanSize(bytes)}: ${r.uri}]`);
      }
    } else if (block.type === 'image' || block.type === 'audio') {
      parts.push(`[${block.type} ${block.mimeType}, ${humanSize(Buffer.from(block.data, 'base64').length)}]`);
    } else if (block.type === 'resource_link') parts.push(`[link ${block.uri}]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined) {
    parts.push(JSON.stringify(result.structuredContent, null, 2));
  }
  return parts.join('\n');
}

/**
 * The bytes of a read-file result: text blocks as UTF-8, embedded blobs decoded, without the text
 * block that mirrors structuredContent (MCP's backwards-compatibility copy). Only the last such
 * block is dropped, so a file whose text happens to equal that JSON still comes out whole.
 */
export function fileBytes(result: CallToolResult): Buffer {
  const mirror = result.structuredContent === undefined ? undefined : JSON.stringify(result.structuredContent);
  const mirrorAt = result.content.findLastIndex((b) => b.type === 'text' && b.text === mirror);
  const chunks: Buffer[] = [];
  for (const [i, block] of result.content.entries()) {
    if (i === mirrorAt) continue;
    if (block.type === 'text') chunks.push(Buffer.from(block.text, 'utf8'));
    else if (block.type === 'resource') {
      const r = block.resource;
      if ('blob' in r && typeof r.blob === 'string') chunks.push(Buffer.from(r.blob, 'base64'));
      else if ('text' in r && typeof r.text === 'string') chunks.push(Buffer.from(r.text, 'utf8'));
    }
  }
  return Buffer.concat(chunks);
}

/** A note when a read-file result stopped before the end of the file, else undefined. */
export function truncationNote(result: CallToolResult): string | undefined {
  const sc = result.structuredContent as { eof?: unknown; nextOffset?: unknown; size?: unknown } | undefined;
  if (sc?.eof !== false || typeof sc.nextOffset !== 'number') return undefined;
  const of = typeof sc.size === 'number' ? ` of ${sc.size}` : '';
  return `(partial: stopped at byte ${sc.nextOffset}${of}; continue with --offset ${sc.nextOffset})`;
}

/** The claims `whoami` shows; the token itself is never part of it. */
export function claimSummary(claims: JWTPayload, now = Date.now()): Record<string, unknown> {
  const c = claims as JWTPayload & {
    azp?: unknown;
    client_id?: unknown;
    scope?: unknown;
    preferred_username?: unknown;
  };
  const exp = typeof c.exp === 'number' ? c.exp : undefined;
  return {
    client: c.azp ?? c.client_id,
    subject: c.sub,
    // A person's token (mcp-client login) names them; client-credentials tokens do not.
    user: typeof c.preferred_username === 'string' ? c.preferred_username : undefined,
    scopes: typeof c.scope === 'string' ? c.scope.split(' ').filter(Boolean) : [],
    audience: c.aud,
    issuer: c.iss,
    expires: exp === undefined ? undefined : new Date(exp * 1000).toISOString(),
    expiresInSeconds: exp === undefined ? undefined : Math.round(exp - now / 1000),
  };
}

/** `claimSummary` as aligned lines. */
export function formatClaims(summary: Record<string, unknown>): string {
  const show = (v: unknown) => (Array.isArray(v) ? v.join(' ') : v === undefined ? '(none)' : String(v));
  return [
    `client (azp):   ${show(summary.client)}`,
    `subject (sub):  ${show(summary.subject)}`,
    ...(summary.user === undefined ? [] : [`user:           ${show(summary.user)}`]),
    `scopes:         ${show(summary.scopes)}`,
    `audience (aud): ${show(summary.audience)}`,
    `issuer (iss):   ${show(summary.issuer)}`,
    `expires (exp):  ${show(summary.expires)}${summary.expiresInSeconds === undefined ? '' : ` (in ${summary.expiresInSeconds} s)`}`,
  ].join('\n');
}

function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
