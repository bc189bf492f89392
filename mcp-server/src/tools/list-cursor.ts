/**
 * The list-files cursor: base64url JSON naming the listing it belongs to (directory, depth and
 * the directory's dev:ino), the path of the last entry returned, and the id of the paused walk
 * (held-listings.ts). Not secret and not signed, but validated: a forged cursor can only choose
 * a resume point inside the same listing, which the walk then reaches through verified
 * descriptors like any other.
 */
import { ServerError } from '../errors.ts';
import { normalizeRelativePath } from './path-guard.ts';

/** Longest cursor accepted, in characters (a path of MAX_PATH_LENGTH plus the fields). */
export const MAX_CURSOR_LENGTH = 8192;

/** The listing a cursor must belong to. */
export interface ListingRef {
  /** Normalized root-relative directory. */
  readonly dir: string;
  /** Levels listed (1 = not recursive). */
  readonly depth: number;
  /** `dev:ino` of the directory. */
  readonly id: string;
}

/** Where a page ended. */
export interface CursorPosition {
  /** Root-relative path of the last entry returned so far; absent before the first. */
  readonly after?: string | undefined;
  /** Id of the paused walk. */
  readonly held?: string | undefined;
}

interface Wire {
  v: 1;
  d: string;
  n: number;
  i: string;
  a?: string;
  h?: string;
}

/** Encodes the cursor for the page after `pos` of listing `ref`. */
export function encodeCursor(ref: ListingRef, pos: CursorPosition): string {
  const wire: Wire = { v: 1, d: ref.dir, n: ref.depth, i: ref.id };
  if (pos.after !== undefined) wire.a = pos.after;
  if (pos.held !== undefined) wire.h = pos.held;
  return Buffer.from(JSON.stringify(wire)).toString('base64url');
}

/** A decoded cursor: the position plus the resume point as names relative to the listed directory. */
export interface DecodedCursor extends CursorPosition {
  readonly components: readonly string[];
}

const invalid = (why: string): ServerError =>
  new ServerError('cursor_invalid', `the cursor ${why}; list again without a cursor`);

function parse(cursor: string): Partial<Wire> {
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalid('is too long');
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null) return value as Partial<Wire>;
  } catch {
    // reported below
  }
  throw invalid('is not one this server issued');
}

/**
 * Decodes and validates `cursor` for listing `ref`.
 * @throws ServerError `cursor_invalid` when malformed, of another listing (other directory,
 *   depth, or the directory was replaced), or naming a resume point outside the listing.
 */
export function decodeCursor(cursor: string, ref: ListingRef): DecodedCursor {
  const w = parse(cursor);
  if (w.v !== 1) throw invalid('is not one this server issued');
  if (w.d !== ref.dir || w.n !== ref.depth) throw invalid('belongs to another listing');
  if (w.i !== ref.id) throw invalid('belongs to a directory that has since been replaced');
  if (w.h !== undefined && (typeof w.h !== 'string' || !/^[\w-]{22}$/.test(w.h))) throw invalid('is malformed');
  if (w.a === undefined) return { held: w.h, components: [] };
  if (typeof w.a !== 'string') throw invalid('is malformed');
  let normalized: string;
  try {
    normalized = normalizeRelativePath(w.a);
  } catch {
    throw invalid('is malformed');
  }
  const prefix = ref.dir === '.' ? '' : `${ref.dir}/`;
  if (normalized !== w.a || normalized === '.' || !normalized.startsWith(prefix)) throw invalid('is malformed');
  const components = normalized.slice(prefix.length).split('/');
  if (components.length > ref.depth) throw invalid('is deeper than the listing');
  return { after: normalized, held: w.h, components };
}
