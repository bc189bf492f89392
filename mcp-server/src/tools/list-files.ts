import * as z from 'zod';
import { DirWalker, type WalkEntry } from './dir-walker.ts';
import { listingResult } from './encoded-listings.ts';
import { throwIfAborted, toolError } from './fs-errors.ts';
import { HeldDir } from './held-dir.ts';
import { holdListing, takeListing } from './held-listings.ts';
import { decodeCursor, encodeCursor, type ListingRef, MAX_CURSOR_LENGTH } from './list-cursor.ts';
import { openCached } from './open-file-cache.ts';
import { realRoot } from './path-guard.ts';
import type { ToolContext, ToolOutcome, ToolSpec } from './tool-spec.ts';

/** Deepest recursion accepted. */
export const MAX_DEPTH = 10;
/** Most entries one page returns. */
export const MAX_LIMIT = 5000;
/** Wall-clock budget of one call (ms): past it the page ends early, with a cursor to continue. */
export const LIST_TIME_BUDGET_MS = 1000;
/** A progress notification goes out after every this many entries of a page. */
const PROGRESS_EVERY = 500;

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
  cursor: z.string().max(MAX_CURSOR_LENGTH).optional().describe('nextCursor of the previous page.'),
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

/** Options of {@link listPage}, for tests; the tool uses the defaults. */
export interface ListPageOptions {
  /** Wall-clock budget of the call in ms. Default {@link LIST_TIME_BUDGET_MS}. */
  budgetMs?: number;
}

/** The walk to continue: the paused one the cursor names, or a fresh one skipping to its position. */
async function walkerFor(
  top: HeldDir,
  ref: ListingRef,
  key: string,
  rootReal: string,
  cursor: string | undefined,
  clientId: string,
): Promise<{ walker: DirWalker; after: string | undefined }> {
  const decoded = cursor === undefined ? undefined : decodeCursor(cursor, ref);
  const paused = decoded?.held === undefined ? undefined : takeListing(decoded.held, key, clientId);
  if (paused?.stillInside()) {
    await top.close();
    return { walker: paused, after: decoded?.after };
  }
  await paused?.close();
  const walker = new DirWalker(top, ref.dir, ref.depth, rootReal);
  if (decoded !== undefined && decoded.components.length > 0) walker.seekAfter(decoded.components);
  return { walker, after: decoded?.after };
}

/** Fills one page from `walker` within `limit` entries and the deadline; true when the walk is over. */
async function fill(
  walker: DirWalker,
  limit: number,
  deadline: number,
  ctx: ToolContext,
  entries: WalkEntry[],
): Promise<boolean> {
  let reported = 0;
  // One batch always runs, so even a spent budget makes progress.
  for (let first = true; entries.length < limit && (first || performance.now() < deadline); first = false) {
    throwIfAborted(ctx.signal);
    const got = await walker.next(limit - entries.length, deadline);
    if (got === 'end') return true;
    if (got === 'timeout') return false;
    entries.push(...got);
    if (entries.length - reported >= PROGRESS_EVERY) {
      reported = entries.length;
      await ctx.progress(entries.length, limit, `${entries.length} entries listed`);
    }
  }
  return !(await walker.hasMore());
}

/**
 * One list-files page: opens the directory through the path guard, continues the cursor's walk
 * and returns up to `limit` entries in walk order, fewer when the time budget runs out.
 */
export async function listPage(
  args: z.infer<typeof inputSchema>,
  ctx: ToolContext,
  options: ListPageOptions = {},
): Promise<ToolOutcome> {
  const requested = args.directory;
  const deadline = performance.now() + (options.budgetMs ?? LIST_TIME_BUDGET_MS);
  try {
    const depth = args.recursive ? (args.maxDepth ?? MAX_DEPTH) : 1;
    const rootReal = await realRoot(ctx.root);
    const opened = await openCached(ctx.root, requested, 'directory');
    const top = new HeldDir(opened.handle, opened.realPath, () => opened.release(), {
      id: opened.identity(),
      stats: opened.stats,
    });
    const ref: ListingRef = { dir: opened.relPath, depth, id: top.id };
    const key = `${rootReal}\0${ref.dir}\0${depth}\0${ref.id}`;
    let walk: Awaited<ReturnType<typeof walkerFor>>;
    try {
      walk = await walkerFor(top, ref, key, rootReal, args.cursor, ctx.clientId);
    } catch (err) {
      await top.close();
      throw err;
    }
    const warm = walk.walker.listWarmNow(args.limit);
    const entries: WalkEntry[] = warm ?? [];
    let done: boolean;
    try {
      done = warm !== undefined || (await fill(walk.walker, args.limit, deadline, ctx, entries));
    } catch (err) {
      await walk.walker.close();
      throw err;
    }
    let nextCursor: string | undefined;
    if (done) await walk.walker.close();
    else
      nextCursor = encodeCursor(ref, {
        after: entries.at(-1)?.path ?? walk.after,
        held: holdListing(walk.walker, key, ctx.clientId),
      });
    await ctx.progress(entries.length, entries.length, `${entries.length} entries listed`);
    const structured = { directory: opened.relPath, entries, ...(nextCursor === undefined ? {} : { nextCursor }) };
    return { result: listingResult(key, structured), path: opened.relPath, bytes: entries.length };
  } catch (err) {
    return { ...toolError(err, requested), path: requested, bytes: 0 };
  }
}

/** `list-files`: lists a directory under the served root, paged by a resumable cursor. Scope file.list. */
export const listFilesTool: ToolSpec<typeof inputSchema, typeof outputSchema> = {
  name: 'list-files',
  scope: 'file.list',
  title: 'List files',
  description:
    'Lists files and directories under the served directory with type, size and modification time, in directory ' +
    'order (not sorted; when recursive, a directory is followed by its contents). Symbolic links are reported, ' +
    'never followed. Page with limit and cursor; a page may hold fewer than limit entries when the time budget ' +
    'runs out, and only a missing nextCursor means the end.',
  inputSchema,
  outputSchema,
  annotations: { title: 'List files', readOnlyHint: true, openWorldHint: false, idempotentHint: true },
  run: (args, ctx) => listPage(args, ctx),
};
