/**
 * The names of small directories whose names have settled, so that listing one again skips the
 * readdir (open, getdents, close), and for a directory listed again and again, a descriptor per
 * entry, so that its lstat through /proc becomes an fstat (a third of the time).
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
 * Entry descriptors: with the key unchanged, every name still links the inode it linked when the
 * list was read, so `fstat` of a descriptor opened on that name (O_PATH | O_NOFOLLOW: the entry
 * itself, a symlink included, nothing opened for reading) reports exactly what `lstat` of the name
 * reports now: current size, type and times. Sizes and times are never remembered.
 */
import { closeSync, constants, type Dirent, openSync } from 'node:fs';

/** How long ago a directory's names must have last changed for its list to be kept, in ms. */
export const SETTLED_MS = 3000;
/** Most names remembered over all directories (a few hundred KiB); oldest lists forgotten first. */
export const MAX_SETTLED_NAMES = 16_384;
/** Most entry descriptors held over all directories; least recently listed closed first. */
export const MAX_ENTRY_HANDLES = 512;
/** Only directories of at most this many names get entry descriptors. */
const MAX_HANDLES_PER_DIR = 64;
/** Entry descriptors unused this long (ms) are closed: they must not keep deleted files alive. */
export const HANDLE_IDLE_MS = 2000;
/** Linux's O_PATH (not in fs.constants): a descriptor that only locates an inode. Elsewhere: none held. */
const O_PATH = 0o10000000;
const IS_LINUX = process.platform === 'linux';

interface Settled {
  readonly names: readonly Dirent[];
  /** Listings that took these names; entry descriptors are opened at the second. */
  listings: number;
  /** One descriptor per name (-1: could not be opened, lstat it), once opened. */
  handles?: number[];
  usedAt: number;
}

const lists = new Map<string, Settled>();
/** Keys of lists holding entry descriptors, least recently used first. */
const withHandles = new Map<string, Settled>();
let namesHeld = 0;
let handlesHeld = 0;
let hits = 0;
let sweeper: NodeJS.Timeout | undefined;

/** The remembered names of the directory state `key`, if any. */
export function settledNames(key: string): readonly Dirent[] | undefined {
  const settled = lists.get(key);
  if (settled === undefined) return undefined;
  hits++;
  settled.listings++;
  return settled.names;
}

/**
 * Keeps `names`, read after an fstat (at `statAt`, ms since the epoch) that gave `key` and the
 * directory's last change time `changedAt` (the later of mtime and ctime); ignored unless settled.
 */
export function keepSettledNames(key: string, names: readonly Dirent[], changedAt: number, statAt: number): void {
  if (statAt - changedAt < SETTLED_MS || names.length > MAX_SETTLED_NAMES || lists.has(key)) return;
  lists.set(key, { names, listings: 0, usedAt: 0 });
  namesHeld += names.length;
  for (const [oldKey, old] of lists) {
    if (namesHeld <= MAX_SETTLED_NAMES) break;
    forget(oldKey, old);
  }
}

/**
 * Entry descriptors of the settled list `key` (whose `names` these are), in their order (-1 where none), opened
 * through `pathOf(name)` (the held directory's /proc path) from the second listing of the list
 * on; undefined when there are none.
 */
export function entryHandles(
  key: string,
  names: readonly Dirent[],
  pathOf: (name: string) => string,
): readonly number[] | undefined {
  const settled = lists.get(key);
  if (!IS_LINUX || settled?.names !== names || settled.listings < 2 || names.length > MAX_HANDLES_PER_DIR)
    return undefined;
  settled.usedAt = performance.now();
  withHandles.delete(key);
  if (settled.handles === undefined) {
    settled.handles = settled.names.map((d) => openEntry(pathOf(d.name)));
    handlesHeld += settled.handles.length;
    sweeper ??= setInterval(sweep, HANDLE_IDLE_MS).unref();
  }
  withHandles.set(key, settled);
  for (const [oldKey, old] of withHandles) {
    if (handlesHeld <= MAX_ENTRY_HANDLES || oldKey === key) break;
    closeHandles(oldKey, old);
  }
  return settled.handles;
}

function openEntry(entryPath: string): number {
  try {
    return openSync(entryPath, O_PATH | constants.O_NOFOLLOW);
  } catch {
    return -1; // EMFILE or gone: that entry is lstat'ed by name
  }
}

function closeHandles(key: string, settled: Settled): void {
  withHandles.delete(key);
  for (const fd of settled.handles ?? []) if (fd >= 0) closeSync(fd);
  handlesHeld -= settled.handles?.length ?? 0;
  settled.handles = undefined;
  settled.listings = 0;
  if (handlesHeld === 0 && sweeper !== undefined) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

function forget(key: string, settled: Settled): void {
  closeHandles(key, settled);
  lists.delete(key);
  namesHeld -= settled.names.length;
}

function sweep(): void {
  const now = performance.now();
  for (const [key, settled] of [...withHandles]) if (now - settled.usedAt >= HANDLE_IDLE_MS) closeHandles(key, settled);
}

/** How many listings took their names from here so far (tests and the profile). */
export function settledNamesHits(): number {
  return hits;
}

/** Entry descriptors held now (tests). */
export function entryHandleCount(): number {
  return handlesHeld;
}
