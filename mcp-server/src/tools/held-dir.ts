/**
 * A directory held open by descriptor, whose entries are read, stat'ed and opened through that
 * descriptor instead of through a path that the kernel would resolve again. Node has no openat(2);
 * on Linux `/proc/self/fd/N/name` is its equivalent: the kernel jumps straight to the directory
 * open as N (a magic link, never re-resolved by name) and looks `name` up inside it, so renaming
 * or swapping anything on the way cannot redirect the lookup. `O_NOFOLLOW | O_DIRECTORY` on the
 * last component refuses a symlink swapped in for a subdirectory.
 */
import { constants, type Dir, type Dirent, fstatSync, lstatSync, readdirSync, type Stats, statSync } from 'node:fs';
import { lstat, opendir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { type Descriptor, identityOf, openDescriptor } from './descriptor.ts';
import { isInside, openedPathOf } from './path-guard.ts';
import { entryHandles, keepSettledNames, settledNames } from './settled-names.ts';

/** Directory entries buffered per read of a held directory (one threadpool trip each). */
const READ_BUFFER_ENTRIES = 128;

/**
 * A directory this small (st_size: one 4 KiB block on ext4, and on tmpfs, btrfs and xfs at most a
 * few hundred names) is read whole in one threadpool trip instead of opendir + reads + closedir:
 * at most ~340 names (12-byte minimal ext4 entries) held instead of {@link READ_BUFFER_ENTRIES}.
 */
export const READ_WHOLE_MAX_BYTES = 4096;

/**
 * How long after a small directory (read whole) had every entry lstat'ed through the threadpool
 * it is read and its entries lstat'ed inline, in ms: the reads just loaded its block, dentries
 * and inodes into the kernel's caches, so they are answered from memory (nginx's reasoning for
 * its reads). A directory whose names changed has another mtime and ctime, so another key, and
 * is not warm. Its names are read again (inline) unless they have settled (settled-names.ts).
 */
export const WARM_MS = 1000;
/** Warm directories remembered at most (oldest forgotten first). */
const MAX_WARM = 256;
/** State key of a directory (see {@link HeldDir}) -> when its entries were last all lstat'ed on the threadpool. */
const warmDirs = new Map<string, number>();
/** lstat calls and whole reads answered inline so far (tests). */
let inlineLstats = 0;
let inlineReads = 0;

/** How many entry lstats ran inline in a warm directory so far (tests and the profile). */
export function inlineLstatCount(): number {
  return inlineLstats;
}

/** How many warm directories were read whole inline so far (tests and the profile). */
export function inlineReadCount(): number {
  return inlineReads;
}

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

let procWorks: boolean | undefined;

/**
 * True when `/proc/self/fd/N` names exactly descriptor N (procfs mounted: Linux). Probed once
 * with a descriptor the caller holds; without it children are reached by path (weaker, see
 * docs/transport.md).
 */
function procFdUsable(fd: number): boolean {
  if (procWorks === undefined) {
    try {
      const st = statSync(`/proc/self/fd/${fd}`, { bigint: true });
      procWorks = `${st.dev}:${st.ino}` === identityOf(fd);
    } catch {
      procWorks = false;
    }
  }
  return procWorks;
}

/** Why a child could not be opened as a directory through its parent. */
export type ChildRefusal = 'not_directory' | 'gone' | 'outside';

/** An open directory: a descriptor, its identity, and (once asked) a stream of its entries. */
export class HeldDir {
  readonly handle: Descriptor;
  /** `dev:ino` of the directory, taken from the open descriptor. */
  readonly id: string;
  /** `dev:ino:size:nlink:mtime:ctime` when opened: its key in the warm set and for settled names. */
  readonly #warmKey: string;
  /** The later of mtime and ctime, and when (epoch ms) the fstat that gave them was taken. */
  readonly #changedAt: number;
  readonly #statAt: number;
  /** Real path at open time: used only where /proc is missing, never shown to a client. */
  readonly #realPath: string;
  /** st_size when opened: decides whether it is read whole. */
  readonly #size: number;
  #stream: Dir | undefined;
  /** The names of a small directory read whole, and how many were handed out. */
  #whole: readonly Dirent[] | undefined;
  #next = 0;
  /** Gives the descriptor back (an open-file cache lease); default: closes it. */
  readonly #release: (() => void) | undefined;

  /**
   * @param known identity and fstat of the descriptor when the caller already has them (an
   *   open-file cache lease); otherwise they are taken here
   */
  constructor(handle: Descriptor, realPath: string, release?: () => void, known?: { id: string; stats: Stats }) {
    this.handle = handle;
    this.#release = release;
    const id = known?.id ?? identityOf(handle.fd);
    const st = known?.stats ?? fstatSync(handle.fd);
    this.id = id;
    this.#warmKey = `${id}:${st.size}:${st.nlink}:${st.mtimeMs}:${st.ctimeMs}`;
    this.#changedAt = Math.max(st.mtimeMs, st.ctimeMs);
    this.#statAt = Date.now();
    this.#size = st.size;
    this.#realPath = realPath;
  }

  /** The path through which the kernel reaches `name` inside exactly this directory. */
  entryPath(name?: string): string {
    const base = procFdUsable(this.handle.fd) ? `/proc/self/fd/${this.handle.fd}` : this.#realPath;
    return name === undefined ? base : `${base}/${name}`;
  }

  /** Next entry of the directory in the file system's order; undefined at the end. */
  async read(): Promise<Dirent | undefined> {
    if (this.#whole === undefined && this.#stream === undefined && this.#size <= READ_WHOLE_MAX_BYTES) {
      // Same order as a stream (both are getdents over the held directory), one trip, nothing to
      // close; inline when warm.
      this.#whole =
        settledNames(this.#warmKey) ??
        (this.#keyWarm() ? this.#readWholeNow() : this.#keep(await readdir(this.entryPath(), { withFileTypes: true })));
    }
    if (this.#whole !== undefined) return this.#whole[this.#next++];
    // opendir of the magic link opens the very directory held by the descriptor, not a path.
    this.#stream ??= await opendir(this.entryPath(), { bufferSize: READ_BUFFER_ENTRIES });
    return (await this.#stream.read()) ?? undefined;
  }

  /**
   * Every name of a small {@link warm} directory nothing was read from yet, read inline, when
   * there are at most `max`: they count as read. Undefined otherwise, with nothing consumed.
   */
  takeWholeNow(max: number): readonly Dirent[] | undefined {
    if (this.#whole !== undefined || this.#stream !== undefined || this.#size > READ_WHOLE_MAX_BYTES) return undefined;
    if (!this.#keyWarm()) return undefined;
    this.#whole = settledNames(this.#warmKey) ?? this.#readWholeNow();
    if (this.#whole.length > max) return undefined;
    this.#next = this.#whole.length;
    return this.#whole;
  }

  /** True when this directory was read whole and all its entries lstat'ed within {@link WARM_MS}. */
  get warm(): boolean {
    return this.#whole !== undefined && this.#keyWarm();
  }

  #readWholeNow(): readonly Dirent[] {
    inlineReads++;
    return this.#keep(readdirSync(this.entryPath(), { withFileTypes: true }));
  }

  #keep(names: readonly Dirent[]): readonly Dirent[] {
    keepSettledNames(this.#warmKey, names, this.#changedAt, this.#statAt);
    return names;
  }

  #keyWarm(): boolean {
    const at = warmDirs.get(this.#warmKey);
    return at !== undefined && performance.now() - at < WARM_MS;
  }

  /** Records that every entry of this (whole-read) directory was just lstat'ed on the threadpool. */
  markStatted(): void {
    if (this.#whole === undefined) return;
    warmDirs.delete(this.#warmKey);
    warmDirs.set(this.#warmKey, performance.now());
    if (warmDirs.size > MAX_WARM) warmDirs.delete(warmDirs.keys().next().value!);
  }

  /** {@link lstatEntry} inline, for a {@link warm} directory only. */
  lstatEntryNow(name: string): Stats | undefined {
    inlineLstats++;
    try {
      return lstatSync(this.entryPath(name));
    } catch {
      return undefined;
    }
  }

  /**
   * {@link lstatEntryNow} of each of `names`, this directory's whole list from {@link takeWholeNow}:
   * an fstat of the entry's descriptor where its settled list holds one (settled-names.ts).
   */
  lstatWholeNow(names: readonly Dirent[]): (Stats | undefined)[] {
    // Only through /proc: a descriptor opened by path could have been redirected, and it is kept.
    const handles = procFdUsable(this.handle.fd)
      ? entryHandles(this.#warmKey, names, (name) => this.entryPath(name))
      : undefined;
    if (handles === undefined) return names.map((d) => this.lstatEntryNow(d.name));
    return names.map((d, i) => {
      const fd = handles[i] ?? -1;
      if (fd < 0) return this.lstatEntryNow(d.name);
      inlineLstats++;
      return fstatSync(fd);
    });
  }

  /** lstat of `name` inside this directory (symlinks reported, not followed); undefined if gone. */
  async lstatEntry(name: string): Promise<Stats | undefined> {
    try {
      return await lstat(this.entryPath(name));
    } catch {
      return undefined;
    }
  }

  /**
   * Opens `name` inside this directory as a directory: refuses a symlink (O_NOFOLLOW), anything
   * not a directory, and a directory the kernel reports outside `rootReal` (re-checked on the
   * descriptor actually opened). Resolves the child or the reason it was refused.
   * @throws the errno error of any other failure to open (EACCES, EMFILE).
   */
  async openChild(name: string, rootReal: string): Promise<HeldDir | ChildRefusal> {
    let handle: Descriptor;
    try {
      handle = await openDescriptor(this.entryPath(name), DIRECTORY_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'gone';
      // ELOOP: a symlink (O_NOFOLLOW); ENOTDIR: no longer a directory. Anything else (EACCES,
      // EMFILE) fails the call rather than silently leaving the subtree out.
      if (code === 'ELOOP' || code === 'ENOTDIR') return 'not_directory';
      throw err;
    }
    const real = openedPathOf(handle.fd);
    const procMissing = real === undefined;
    const childReal = real ?? path.join(this.#realPath, name);
    if (!isInside(rootReal, childReal) || (procMissing && !this.#samePathIdentity(handle.fd, name))) {
      await handle.close();
      return 'outside';
    }
    return new HeldDir(handle, childReal);
  }

  /** True while the kernel still places this directory inside `rootReal` (re-check on resume). */
  stillInside(rootReal: string): boolean {
    const real = openedPathOf(this.handle.fd);
    return real === undefined || isInside(rootReal, real);
  }

  /** Without /proc: the opened child must be what the parent path names now (narrows the race). */
  #samePathIdentity(fd: number, name: string): boolean {
    try {
      const parent = statSync(this.#realPath, { bigint: true });
      const child = lstatSync(path.join(this.#realPath, name), { bigint: true });
      return `${parent.dev}:${parent.ino}` === this.id && `${child.dev}:${child.ino}` === identityOf(fd);
    } catch {
      return false;
    }
  }

  /** Closes the stream and the descriptor (or gives it back); safe to call twice. */
  async close(): Promise<void> {
    const stream = this.#stream;
    this.#stream = undefined;
    this.#whole = undefined;
    await stream?.close().catch(() => {});
    if (this.#release !== undefined) this.#release();
    else await this.handle.close().catch(() => {});
  }
}
