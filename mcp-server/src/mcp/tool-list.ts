import type { AuthInfo, Tool } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { listFilesTool } from '../tools/list-files.ts';
import { readFileTool } from '../tools/read-file.ts';

/** The tools this server offers, in the order tools/list returns them (deterministic). */
export const TOOLS = [listFilesTool, readFileTool] as const;

/**
 * Longest `ttlMs` a tools/list result announces (2026-07-28). The list depends only on the
 * credential's scopes, so it stays true until the token changes; the cap bounds how long a
 * client keeps a list after renewing its token on a WebSocket with fewer scopes.
 */
export const TOOL_LIST_MAX_TTL_MS = 60_000;

// tools/list definitions are computed once per process and shared by every connection: the
// JSON Schemas are the same for all, only the visible subset depends on the token's scopes.
let definitions: readonly (Tool & { scope: string })[] | undefined;
const listsByScopes = new Map<string, { tools: Tool[] }>();

function toolDefinitions(): readonly (Tool & { scope: string })[] {
  definitions ??= TOOLS.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    // The conversion the SDK applies itself (JSON Schema 2020-12, the object root made explicit).
    inputSchema: { type: 'object', ...z.toJSONSchema(t.inputSchema, { io: 'input' }) } as Tool['inputSchema'],
    outputSchema: { type: 'object', ...z.toJSONSchema(t.outputSchema, { io: 'output' }) } as Tool['outputSchema'],
    annotations: t.annotations,
    scope: t.scope,
  }));
  return definitions;
}

/** The tools/list result for a token with `scopes`: only the tools it may call, in a fixed order. */
export function visibleTools(scopes: readonly string[]): { tools: Tool[] } {
  const granted = new Set(scopes);
  const key = TOOLS.filter((t) => granted.has(t.scope))
    .map((t) => t.name)
    .join(',');
  let list = listsByScopes.get(key);
  if (list === undefined) {
    list = {
      tools: toolDefinitions()
        .filter((d) => granted.has(d.scope))
        .map(({ scope: _s, ...tool }) => tool),
    };
    listsByScopes.set(key, list);
  }
  return list;
}

/**
 * The tools/list result of a 2026-07-28 request: the visible tools plus the cache fields that are
 * true for them. `cacheScope` is `private` (the list depends on the credential, so no cache may
 * share it across callers); `ttlMs` lasts no longer than the token (a new token may carry other
 * scopes) and at most {@link TOOL_LIST_MAX_TTL_MS}.
 */
export function cacheableToolList(
  auth: AuthInfo,
  now = Date.now(),
): { tools: Tool[]; ttlMs: number; cacheScope: 'private' } {
  const left = auth.expiresAt === undefined ? TOOL_LIST_MAX_TTL_MS : Math.max(0, auth.expiresAt * 1000 - now);
  return {
    ...visibleTools(auth.scopes),
    ttlMs: Math.min(Math.floor(left), TOOL_LIST_MAX_TTL_MS),
    cacheScope: 'private',
  };
}
