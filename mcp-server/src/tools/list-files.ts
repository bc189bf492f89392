import type { Dirent, Stats } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { ServerError } from '../errors.ts';
import { throwIfAborted, toolError } from './fs-errors.ts';
import { openInsideRoot } from './path-guard.ts';
import type { ToolContext, ToolOutcome, ToolSpec } from './tool-spec.ts';

/** Deepest recursion accepted. */
export const MAX_DEPTH = 10;
/** Most entries one page returns. */
export const MAX_LIMIT = 5000;
/** Most entries one listing walks before asking the caller to narrow it. */
export const MAX_WALK_ENTRIES = 100_000;

const inputSchema = z.object({
  directory: z.string().default('.').describe("Directory relative to the served root, '/'-separated. Default '.'."),
  recursive: z.boolean().default(false).describe('List subdirectories too. Default false.'),
  maxDepth: z
    .number()
    .int()
    .min(1)
    .max(MAX_DEPTH)
    .optional()
    .describe(`Levels to descend when recursive (1 = only the directory). Default ${MAX_DEPTH}.`),
  limit: z.number().int().min(1).max(MAX_LIMIT).default(1000).describe('Entries per page. Default 1000.'),
  cursor: z.string().optional().describe('nextCursor of the previous page.'),
});

const entrySchema = z.object({
  name: z.string(),
  type: z.enum(['file', 'directory', 'symlink', 'other']),
  path: z.string().describe("Relative to the served root, '/'-separated; pass it to read-file."),
  size: z.number(),
  modified: z.string().describe('ISO 8601'),
});

const outputSchema = z.object({
  directory: z.string(),
  entries: z.array(entrySchema),
  nextCursor: z.string().optional(),
});

/** One listed entry. */
export type ListEntry = z.infer<typeof entrySchema>;

function typeOf(stats: Stats | Dirent): ListEntry['type'] {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFile()) return 'file';
  return 'other';
}

interface CursorState {
  /** Path of the last entry returned. */
  after: string;
  /** The query the cursor belongs to. */
  q: string;
}

function encodeCursor(state: CursorState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decodeCursor(cursor: string, q: string): string {
  try {
    const state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorState>;
    if (typeof state.after === 'string' && state.q === q) return state.after;
  } catch {
    // fall through
  }
  throw new ServerError('cursor_invalid', 'the cursor is invalid or belongs to another listing; start without one');
}

/** lstat calls in flight at once per directory: keeps the threadpool busy, bounded for huge directories. */
const STAT_CONCURRENCY = 16;

/**
 * Walks `dirReal` depth-first without following symlinks; entries carry root-relative paths.
 * A directory's names are read first (streamed, so the entry limit applies while reading), then
 * lstat'ed STAT_CONCURRENCY at a time: a listing waits for one round trip per batch, not per entry.
 */
async function walk(dirReal: string, dirRel: string, depth: number, ctx: ToolContext, out: ListEntry[]): Promise<void> {
  const dir = await opendir(dirReal);
  const dirents: Dirent[] = [];
  for await (const dirent of dir) {
    throwIfAborted(ctx.signal);
    if (out.length + dirents.length >= MAX_WALK_ENTRIES) {
      throw new ServerError(
        'io_failed',
        `the listing exceeds ${MAX_WALK_ENTRIES} entries; list a smaller directory or lower maxDepth`,
      );
    }
    dirents.push(dirent);
  }
  const subdirs: [string, string][] = [];
  for (let i = 0; i < dirents.length; i += STAT_CONCURRENCY) {
    throwIfAborted(ctx.signal);
    const batch = dirents.slice(i, i + STAT_CONCURRENCY);
    // A name that vanished meanwhile is listed with what readdir knew.
    const stats = await Promise.all(batch.map((d) => lstat(path.join(dirReal, d.name)).catch(() => undefined)));
    for (const [j, dirent] of batch.entries()) {
      const st = stats[j];
      const rel = dirRel === '.' ? dirent.name : `${dirRel}/${dirent.name}`;
      const type = typeOf(st ?? dirent);
      out.push({
        name: dirent.name,
        type,
        path: rel,
        size: st?.size ?? 0,
        modified: st ? st.mtime.toISOString() : new Date(0).toISOString(),
      });
      if (type === 'directory') subdirs.push([path.join(dirReal, dirent.name), rel]);
    }
  }
  await ctx.progress(out.length, undefined, `${out.length} entries listed`);
  if (depth <= 1) return;
  for (const [abs, rel] of subdirs) await walk(abs, rel, depth - 1, ctx, out);
}

async function run(args: z.infer<typeof inputSchema>, ctx: ToolContext): Promise<ToolOutcome> {
  const requested = args.directory;
  try {
    const depth = args.recursive ? (args.maxDepth ?? MAX_DEPTH) : 1;
    const opened = await openInsideRoot(ctx.root, requested, 'directory');
    await opened.handle.close();
    const q = `${opened.relPath}|${depth}`;
    const after = args.cursor === undefined ? undefined : decodeCursor(args.cursor, q);
    const all: ListEntry[] = [];
    await walk(opened.realPath, opened.relPath, depth, ctx, all);
    all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const start = after === undefined ? 0 : all.findIndex((e) => e.path > after);
    const from = start < 0 ? all.length : start;
    const entries = all.slice(from, from + args.limit);
    const last = entries.at(-1);
    const more = from + entries.length < all.length && last !== undefined;
    const structured = {
      directory: opened.relPath,
      entries,
      ...(more ? { nextCursor: encodeCursor({ after: last.path, q }) } : {}),
    };
    return {
      result: { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured },
      path: opened.relPath,
      bytes: entries.length,
    };
  } catch (err) {
    return { ...toolError(err, requested), path: requested, bytes: 0 };
  }
}

/** `list-files`: lists a directory under the served root, paged, sorted by path. Scope file.list. */
export const listFilesTool: ToolSpec<typeof inputSchema, typeof outputSchema> = {
  name: 'list-files',
  scope: 'file.list',
  title: 'List files',
  description:
    'Lists files and directories under the served directory, sorted by path, with type, size and modification time. ' +
    'Symbolic links are reported, never followed. Page with limit and cursor.',
  inputSchema,
  outputSchema,
  annotations: { title: 'List files', readOnlyHint: true, openWorldHint: false, idempotentHint: true },
  run,
};
