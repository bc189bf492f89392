/**
 * An open-file cache for read-file, in the spirit of nginx's `open_file_cache`: a file that was
 * opened through the path guard stays open for a short window, so the next read of the same path
 * skips realpath and open (two threadpool round trips) and reads the held descriptor at once.
 *
 * Unlike nginx, nothing is served on trust during the window: every hit re-proves, inline and from
 * kernel memory, what the path guard proved at the open.
 * 1. The kernel's current path of the held descriptor (`/proc/self/fd/N`) is exactly
 *    `<real root>/<relative path>`. The kernel builds that string from the descriptor's dentry up
 *    through its parents, so it names the file where it is linked now: a file renamed or moved
 *    (also out of the root), deleted (" (deleted)"), or a parent directory renamed, swapped for a
 *    symlink or exchanged (renameat2) no longer matches. And since the path has no symlink in it and
 *    a name in a directory has one dentry, resolving the relative path now gives this very file:
 *    a swapped symlink or a replaced file is a miss, never a hit.
 * 2. fstat of the descriptor: still a regular file with the same change time (ctime moves on every
 *    write, chmod, chown, link count or rename), so a permission change is never bypassed.
 * 3. A proof made in this turn of the event loop is the proof of every hit of the same entry in
 *    the turn: every request a turn serves was read from its socket before the turn began, hence
 *    before the proof, and a request sent after a file was replaced is read in a later turn and
 *    proves again (tools/turn-memo.ts).
 * Only paths that resolved with no symlink at all are cached (others take the guard every time),
 * and without /proc nothing is cached. A failed check closes the entry and the caller opens the
 * file through the guard again. What the window still bounds: a permission change on a parent
 * directory alone (not on the file) is seen at the next open, at most {@link VALID_MS} later.
 *
 * Directories are held the same way for list-files ({@link openCached} with `'directory'`): the
 * same proof (a directory's ctime also moves when a name in it is added, removed or renamed, so
 * such a change is a miss); its names are read again unless they have settled (settled-names.ts).
 *
 * An entry whose whole file (at most {@link INLINE_READ_MAX_BYTES}) was read through the threadpool
 * since the open, at the same ctime, is `warm`: its pages were just read into the page cache, so
 * read-file reads it again inline, as nginx reads files, instead of paying a threadpool trip
 * (which costs more than the copy). Anything else, and any page of a larger file, stays on the
 * threadpool, where a read that must wait for a disk cannot hold up the event loop.
 */
import { fstatSync, type Stats } from 'node:fs';
import path from 'node:path';
import { type Descriptor, identityOf } from './descriptor.ts';
import { normalizeRelativePath, type OpenKind, openedPathOf, openInsideRoot, realRoot } from './path-guard.ts';
import { TurnMemo } from './turn-memo.ts';

/** How long a descriptor is reused after the guard opened it, in ms; then the guard opens it again. */
export const VALID_MS = 1000;
/** Most descriptors held at once (per process); the least recently used is closed first. */
export const MAX_ENTRIES = 256;
/** Largest file a warm entry lets read-file read inline. */
export const INLINE_READ_MAX_BYTES = 64 * 1024;

interface Entry {
  readonly key: string;
  readonly kind: OpenKind;
  readonly handle: Descriptor;
  /** `<real root>/<relative path>`: what /proc must say the descriptor is. */
  readonly real: string;
  readonly ctimeMs: number;
  readonly openedAt: number;
  /** Reads using the descriptor now; it is closed when evicted and none are left. */
  refs: number;
  evicted: boolean;
  /** The whole file was read since the open (see the module comment). */
  warm: boolean;
  /** `dev:ino` of the descriptor, once asked (it never changes for an open descriptor). */
  identity?: string;
}

/** A file (or directory) opened for one read: `release()` it when done (exactly once). */
export interface FileLease {
  readonly handle: Descriptor;
  /** Real absolute path (internal only: never show it to a client). */
  readonly realPath: string;
  /** fstat of the descriptor, taken for this read. */
  readonly stats: Stats;
  /** The normalized relative path, safe to show. */
  readonly relPath: string;
  /**
   * True when the whole file (at most {@link INLINE_READ_MAX_BYTES}, this size and ctime) was read
   * through this cache entry within its window: its pages are in the page cache.
   */
  readonly warm: boolean;
  /** Records that the whole file was just read (through the threadpool). */
  markWarm(): void;
  /** `dev:ino` of the descriptor (exact: bigint), computed once per held descriptor. */
  identity(): string;
  release(): void;
}

// Map order is use order: a hit moves its entry to the end, eviction takes from the front.
const entries = new Map<string, Entry>();
let sweeper: NodeJS.Timeout | undefined;
let hits = 0;
let misses = 0;
let warmHits = 0;
let proofs = 0;

/** The stats of each entry's proof in this turn (point 3 of the module comment). */
const provedThisTurn = new TurnMemo<Entry, Stats>();

function evict(entry: Entry): void {
  if (entries.get(entry.key) === entry) entries.delete(entry.key);
  entry.evicted = true;
  provedThisTurn.delete(entry);
  if (entry.refs === 0) void entry.handle.close().catch(() => {});
  if (entries.size === 0 && sweeper !== undefined) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/** A lease of a held entry (a class: one allocation per read, not an object and four closures). */
class EntryLease implements FileLease {
  readonly handle: Descriptor;
  readonly realPath: string;
  readonly stats: Stats;
  readonly relPath: string;
  readonly warm: boolean;
  readonly #entry: Entry;
  #released = false;

  constructor(entry: Entry, stats: Stats, relPath: string) {
    this.#entry = entry;
    this.stats = stats;
    this.relPath = relPath;
    this.handle = entry.handle;
    this.realPath = entry.real;
    this.warm = entry.warm && stats.size <= INLINE_READ_MAX_BYTES;
    entry.refs++;
    if (this.warm) warmHits++;
  }

  markWarm(): void {
    if (this.stats.size <= INLINE_READ_MAX_BYTES) this.#entry.warm = true;
  }

  identity(): string {
    this.#entry.identity ??= identityOf(this.handle.fd);
    return this.#entry.identity;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    const entry = this.#entry;
    entry.refs--;
    if (entry.evicted && entry.refs === 0) void entry.handle.close().catch(() => {});
  }
}

/** The entry's re-proof (see the module comment); fresh stats when it holds, else undefined. */
function revalidate(entry: Entry, now: number): Stats | undefined {
  if (now - entry.openedAt >= VALID_MS) return undefined;
  proofs++;
  if (openedPathOf(entry.handle.fd) !== entry.real) return undefined;
  try {
    const stats = fstatSync(entry.handle.fd);
    const sameKind = entry.kind === 'file' ? stats.isFile() : stats.isDirectory();
    return sameKind && stats.ctimeMs === entry.ctimeMs ? stats : undefined;
  } catch {
    return undefined;
  }
}

function insert(entry: Entry): void {
  const old = entries.get(entry.key);
  if (old !== undefined) evict(old);
  entries.set(entry.key, entry);
  while (entries.size > MAX_ENTRIES) evict(entries.values().next().value!);
  sweeper ??= setInterval(sweep, VALID_MS).unref();
}

/** Closes entries past their window (so deleted files are not held open by an idle cache). */
function sweep(): void {
  const now = performance.now();
  for (const entry of [...entries.values()]) if (now - entry.openedAt >= VALID_MS) evict(entry);
}

/** {@link openCached} of a regular file. */
export function openFileCached(root: string, relInput: string): Promise<FileLease> {
  return openCached(root, relInput, 'file');
}

/**
 * Opens `relInput` under `root` for reading, as a regular file or a directory, through the
 * cache: a hit costs a readlink of /proc and an fstat, once per turn (no threadpool round trip); a miss opens
 * through {@link openInsideRoot} and keeps the descriptor when its path has no symlink.
 * @throws ServerError as {@link openInsideRoot} does (nothing is cached for a failed open).
 */
export async function openCached(root: string, relInput: string, kind: OpenKind): Promise<FileLease> {
  const relPath = normalizeRelativePath(relInput);
  const key = `${kind}\0${root}\0${relPath}`;
  const cached = entries.get(key);
  const now = performance.now();
  if (cached !== undefined) {
    let stats = provedThisTurn.get(cached);
    if (stats === undefined) {
      stats = revalidate(cached, now);
      if (stats !== undefined) provedThisTurn.set(cached, stats);
    }
    if (stats !== undefined) {
      hits++;
      entries.delete(key);
      entries.set(key, cached);
      return new EntryLease(cached, stats, relPath);
    }
    evict(cached);
  }
  misses++;
  const opened = await openInsideRoot(root, relPath, kind);
  const real = path.join(await realRoot(root), relPath);
  if (opened.realPath !== real || openedPathOf(opened.handle.fd) !== real) {
    // A symlink on the way (or no /proc to prove anything later): this read only, never cached.
    const { handle } = opened;
    return {
      handle,
      realPath: opened.realPath,
      stats: opened.stats,
      relPath,
      warm: false,
      markWarm: () => {},
      identity: () => identityOf(handle.fd),
      release: () => void handle.close().catch(() => {}),
    };
  }
  const entry: Entry = {
    key,
    kind,
    handle: opened.handle,
    real,
    ctimeMs: opened.stats.ctimeMs,
    openedAt: now,
    refs: 0,
    evicted: false,
    warm: false,
  };
  insert(entry);
  return new EntryLease(entry, opened.stats, relPath);
}

/** Hits (warm ones among them), proofs made for them, misses and descriptors held (tests and the profile). */
export function openFileCacheStats(): { hits: number; warmHits: number; proofs: number; misses: number; held: number } {
  return { hits, warmHits, proofs, misses, held: entries.size };
}

/** Closes every held descriptor not in use (tests; a server shutting down). */
export function clearOpenFileCache(): void {
  for (const entry of [...entries.values()]) evict(entry);
}
