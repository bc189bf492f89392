/**
 * The names of small directories whose names have settled, so that listing one again skips the
 * readdir (open, getdents, close: most of a warm listing's kernel time after the lstats).
 *
 * Why a remembered list is exact: adding, removing or renaming a name in a directory (exchanges
 * included) sets its mtime and ctime to the current time, and nothing but the clock sets ctime. A
 * list is looked up by `dev:ino:size:nlink:mtime:ctime` from an fstat of the held descriptor taken
 * for this very listing, so a directory whose names changed since has another key. The one gap
 * is the timestamps' granularity (a jiffy on Linux, up to 2 s on FAT): a change in the same tick as
 * the read would keep the key. So a list is kept only when the directory's last change was at
 * least {@link SETTLED_MS} before the fstat; any later change then lands in a later tick, and a
 * recently changed directory is read every time ("racily clean" entries in git, for the same
 * reason). Assumes the file system's timestamps come from this machine's clock (local file
 * systems; a network file system with a skewed server clock would need a larger margin).
 *
 * Only names and types are remembered: every listing still lstats each entry for its current
 * size, type and time.
 */
import type { Dirent } from 'node:fs';

/** How long ago a directory's names must have last changed for its list to be kept, in ms. */
export const SETTLED_MS = 3000;
/** Most names remembered over all directories (a few hundred KiB); oldest lists forgotten first. */
export const MAX_SETTLED_NAMES = 16_384;

const lists = new Map<string, readonly Dirent[]>();
let namesHeld = 0;
let hits = 0;

/** The remembered names of the directory state `key`, if any. */
export function settledNames(key: string): readonly Dirent[] | undefined {
  const names = lists.get(key);
  if (names !== undefined) hits++;
  return names;
}

/**
 * Keeps `names`, read after an fstat (at `statAt`, ms since the epoch) that gave `key` and the
 * directory's last change time `changedAt` (the later of mtime and ctime); ignored unless settled.
 */
export function keepSettledNames(key: string, names: readonly Dirent[], changedAt: number, statAt: number): void {
  if (statAt - changedAt < SETTLED_MS || names.length > MAX_SETTLED_NAMES || lists.has(key)) return;
  lists.set(key, names);
  namesHeld += names.length;
  for (const [oldKey, old] of lists) {
    if (namesHeld <= MAX_SETTLED_NAMES) break;
    lists.delete(oldKey);
    namesHeld -= old.length;
  }
}

/** How many listings took their names from here so far (tests and the profile). */
export function settledNamesHits(): number {
  return hits;
}
