/**
 * A resumable depth-first walk of a directory tree under the served root. Every level is a
 * {@link HeldDir}: entries are read from the descriptor the walk opened and children are opened
 * through their parent's descriptor, so nothing is ever re-resolved by path and no swap can
 * redirect the walk outside. Memory is bounded by the depth (one descriptor, one read buffer and
 * at most {@link STAT_BATCH} pending names per level), never by the size of a directory.
 *
 * Order: the file system's directory order (not sorted), pre-order: a directory's entry comes
 * right before its contents.
 */
import { type Dirent, fstatSync, type Stats } from 'node:fs';
import { ServerError } from '../errors.ts';
import { HeldDir } from './held-dir.ts';

/** lstat calls in flight at once: keeps the threadpool busy without flooding it. */
export const STAT_BATCH = 16;
/** Names skipped between deadline checks while seeking a cursor's resume point. */
const SEEK_CHECK = 256;

/** One listed entry (the shape of list-files' output). */
export interface WalkEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  path: string;
  size: number;
  modified: string;
}

interface Frame {
  readonly dir: HeldDir;
  /** Root-relative path of the directory, '.' for the root. */
  readonly rel: string;
  /** Levels listed from here: 1 = its entries only, more = descend into subdirectories. */
  readonly levels: number;
  /** Names read from the stream but not yet listed (at most one, for the look-ahead). */
  readonly pending: Dirent[];
  /** Names passed over without an lstat (a cursor's resume): the directory cannot be marked warm. */
  skipped?: boolean;
  /** Some entries were lstat'ed inline (already warm): nothing to mark. */
  inline?: boolean;
}

function typeOf(stats: Stats): WalkEntry['type'] {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFile()) return 'file';
  return 'other';
}

/** Modification times already formatted (V8 formats an ISO date through printf: a tenth of a listing). */
const isoDates = new Map<number, string>();
const MAX_ISO_DATES = 4096;

/** `new Date(ms).toISOString()`, remembered: the entries of a directory listed again keep their times. */
function isoDate(ms: number): string {
  let iso = isoDates.get(ms);
  if (iso === undefined) {
    iso = new Date(ms).toISOString();
    if (isoDates.size >= MAX_ISO_DATES) isoDates.clear();
    isoDates.set(ms, iso);
  }
  return iso;
}

function entryOf(parentRel: string, name: string, stats: Stats): WalkEntry {
  return {
    name,
    type: typeOf(stats),
    path: parentRel === '.' ? name : `${parentRel}/${name}`,
    size: stats.size,
    // From mtimeMs: Stats' lazy `mtime` getter costs as much again as the Date it makes.
    modified: isoDate(stats.mtimeMs),
  };
}

/** The entries of `dirents` (in `parentRel`) whose stats are known; a name gone meanwhile is left out. */
function entriesOf(parentRel: string, dirents: readonly Dirent[], stats: readonly (Stats | undefined)[]): WalkEntry[] {
  const entries: WalkEntry[] = [];
  for (const [i, dirent] of dirents.entries()) {
    const st = stats[i];
    if (st !== undefined) entries.push(entryOf(parentRel, dirent.name, st));
  }
  return entries;
}

const moved = (): ServerError =>
  new ServerError('symlink_refused', 'a directory was moved outside the served directory while it was listed');

/** A walk in progress; the owner must {@link DirWalker.close} it. */
export class DirWalker {
  readonly #rootReal: string;
  readonly #frames: Frame[];
  /** Names still to skip to reach the resume point of a cursor; undefined once there. */
  #seek: string[] | undefined;

  /**
   * @param top the listed directory, already opened and checked (the walker owns it now)
   * @param rel its root-relative path
   * @param levels 1 = its entries only, up to MAX_DEPTH
   * @param rootReal real path of the served root (for the containment re-check)
   */
  constructor(top: HeldDir, rel: string, levels: number, rootReal: string) {
    this.#rootReal = rootReal;
    this.#frames = [{ dir: top, rel, levels, pending: [] }];
  }

  /** Makes the walk resume right after the entry at `components` (relative to the listed directory). */
  seekAfter(components: readonly string[]): void {
    this.#seek = [...components];
  }

  /** True while every directory the walk holds is still inside the root (checked on resume). */
  stillInside(): boolean {
    return this.#frames.every((f) => f.dir.stillInside(this.#rootReal));
  }

  /**
   * The next entries in walk order, at most `max` (and at most {@link STAT_BATCH}): `'end'` when
   * the walk is over, `'timeout'` when `deadline` (performance.now() ms) passed while skipping to
   * a cursor's resume point. Entries that vanish meanwhile are left out, so a batch may be empty.
   * @throws ServerError `cursor_invalid` when the resume point no longer exists.
   */
  async next(max: number, deadline: number): Promise<WalkEntry[] | 'end' | 'timeout'> {
    if (this.#seek !== undefined && !(await this.#advanceSeek(deadline))) return 'timeout';
    for (let top = this.#frames.at(-1); top !== undefined; top = this.#frames.at(-1)) {
      const batch: Dirent[] = [];
      while (batch.length < Math.min(max, STAT_BATCH)) {
        const dirent = await this.#read(top);
        if (dirent === undefined) break;
        batch.push(dirent);
        // A subdirectory's contents come right after it: stop the batch there.
        if (top.levels > 1 && dirent.isDirectory()) break;
      }
      if (batch.length === 0) {
        this.#finished(top);
        await top.dir.close();
        this.#frames.pop();
        continue;
      }
      return this.#list(top, batch);
    }
    return 'end';
  }

  /**
   * The whole walk at once when it is one level of a small warm directory with at most `max`
   * names, nothing read yet: read and lstat'ed inline, no await. Undefined otherwise, with nothing
   * consumed ({@link next} lists it).
   */
  listWarmNow(max: number): WalkEntry[] | undefined {
    const top = this.#frames[0];
    if (top === undefined || this.#frames.length > 1 || top.levels > 1 || this.#seek !== undefined) return undefined;
    if (top.pending.length > 0) return undefined;
    const names = top.dir.takeWholeNow(max);
    if (names === undefined) return undefined;
    top.inline = true;
    return entriesOf(top.rel, names, top.dir.lstatWholeNow(names));
  }

  /** True when at least one more name remains (reads ahead one name; pops finished levels). */
  async hasMore(): Promise<boolean> {
    if (this.#seek !== undefined) return true;
    for (let top = this.#frames.at(-1); top !== undefined; top = this.#frames.at(-1)) {
      const dirent = await this.#read(top);
      if (dirent !== undefined) {
        top.pending.push(dirent);
        return true;
      }
      this.#finished(top);
      await top.dir.close();
      this.#frames.pop();
    }
    return false;
  }

  /** Closes every directory the walk holds. */
  async close(): Promise<void> {
    const frames = this.#frames.splice(0);
    await Promise.all(frames.map((f) => f.dir.close()));
  }

  /** A level read to its end: if every name was lstat'ed on the threadpool, its directory is warm now. */
  #finished(frame: Frame): void {
    if (!frame.skipped && !frame.inline) frame.dir.markStatted();
  }

  async #read(frame: Frame): Promise<Dirent | undefined> {
    return frame.pending.shift() ?? (await frame.dir.read());
  }

  async #list(top: Frame, batch: Dirent[]): Promise<WalkEntry[]> {
    const last = batch.at(-1);
    const descend = last !== undefined && top.levels > 1 && last.isDirectory();
    const plain = descend ? batch.slice(0, -1) : batch;
    // A warm directory's entries were all just looked up: their lstat is answered from the kernel's caches.
    const inline = top.dir.warm;
    if (inline) top.inline = true;
    const stats = inline
      ? plain.map((d) => top.dir.lstatEntryNow(d.name))
      : await Promise.all(plain.map((d) => top.dir.lstatEntry(d.name)));
    const entries = entriesOf(top.rel, plain, stats);
    if (descend) {
      const entry = await this.#descend(top, last.name);
      if (entry !== undefined) entries.push(entry);
    }
    return entries;
  }

  /** Opens subdirectory `name` through its parent and pushes it; lists what it is now if it is no directory. */
  async #descend(top: Frame, name: string): Promise<WalkEntry | undefined> {
    const child = await top.dir.openChild(name, this.#rootReal);
    if (child === 'outside') throw moved();
    if (child instanceof HeldDir) {
      const entry = entryOf(top.rel, name, fstatSync(child.handle.fd));
      this.#frames.push({ dir: child, rel: entry.path, levels: top.levels - 1, pending: [] });
      return entry;
    }
    // Replaced by a symlink or a file since the name was read: list it as it is, never follow it.
    const st = await top.dir.lstatEntry(name);
    return st === undefined ? undefined : entryOf(top.rel, name, st);
  }

  /** Skips names (no stat) down to the resume point; false when the deadline passed first. */
  async #advanceSeek(deadline: number): Promise<boolean> {
    const seek = this.#seek ?? [];
    while (seek.length > 0) {
      const top = this.#frames.at(-1);
      const want = seek[0] as string;
      if (top === undefined) throw gone();
      let found: Dirent | undefined;
      for (let skipped = 1; found === undefined; skipped++) {
        // Checked every SEEK_CHECK names, so each call skips at least that many before giving up.
        if (skipped % SEEK_CHECK === 0 && performance.now() > deadline) return false;
        const dirent = await this.#read(top);
        if (dirent === undefined) throw gone();
        top.skipped = true;
        if (dirent.name === want) found = dirent;
      }
      seek.shift();
      if (top.levels > 1 && found.isDirectory()) {
        const child = await top.dir.openChild(want, this.#rootReal);
        if (child === 'outside') throw moved();
        if (child instanceof HeldDir) {
          const rel = top.rel === '.' ? want : `${top.rel}/${want}`;
          this.#frames.push({ dir: child, rel, levels: top.levels - 1, pending: [] });
          continue;
        }
      }
      if (seek.length > 0) throw gone();
    }
    this.#seek = undefined;
    return true;
  }
}

const gone = (): ServerError =>
  new ServerError(
    'cursor_invalid',
    'the entry this cursor resumes after was removed or replaced; list again without a cursor',
  );
