import { constants, fstatSync, readlinkSync, type Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { ServerError } from '../errors.ts';
import { type Descriptor, openDescriptor } from './descriptor.ts';

/** Longest relative path accepted, in characters (Linux PATH_MAX is 4096 bytes). */
export const MAX_PATH_LENGTH = 4096;

// ---------------------------------------------------------------------------------------------
// Pure part: no I/O.
// ---------------------------------------------------------------------------------------------

/**
 * Validates a caller-supplied relative path and returns it normalized ('/'-separated, no '.'
 * or '..' segments; '.' for the root itself). Names that merely look encoded (`%2e%2e`) are
 * plain names.
 * @throws ServerError `path_invalid` (NUL, absolute, drive, UNC, backslash, empty, too long) or
 *   `path_outside_root` ('..' escaping the root after normalization).
 */
export function normalizeRelativePath(input: string): string {
  const shown = JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}…` : input);
  if (input.trim().length === 0) throw new ServerError('path_invalid', 'the path is empty');
  if (input.includes('\0')) throw new ServerError('path_invalid', `the path ${shown} contains a NUL byte`);
  if (input.length > MAX_PATH_LENGTH) {
    throw new ServerError('path_invalid', `the path is longer than ${MAX_PATH_LENGTH} characters`);
  }
  if (/^[A-Za-z]:/.test(input)) throw new ServerError('path_invalid', `the path ${shown} has a drive letter`);
  if (input.startsWith('\\\\') || input.startsWith('//')) {
    throw new ServerError('path_invalid', `the path ${shown} is a UNC path`);
  }
  if (input.includes('\\')) {
    throw new ServerError('path_invalid', `the path ${shown} contains a backslash; separate with '/'`);
  }
  if (input.startsWith('/')) {
    throw new ServerError(
      'path_invalid',
      `the path ${shown} is absolute; give a path relative to the served directory`,
    );
  }
  const normalized = path.posix.normalize(input).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) {
    throw new ServerError('path_outside_root', `the path ${shown} leads outside the served directory`);
  }
  return normalized === '' ? '.' : normalized;
}

/** True when `candidate` is `root` or lies under it; the prefix ends at a separator (CVE-2025-53110). */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return candidate.startsWith(prefix);
}

// ---------------------------------------------------------------------------------------------
// I/O part.
// ---------------------------------------------------------------------------------------------

/** What {@link openInsideRoot} opens. */
export type OpenKind = 'file' | 'directory';

/** A file or directory opened inside the root; close `handle` when done. */
export interface OpenedPath {
  readonly handle: Descriptor;
  readonly stats: Stats;
  /** Real absolute path (for internal use only: never show it to a client). */
  readonly realPath: string;
  /** The normalized relative path, safe to show. */
  readonly relPath: string;
}

/** Maps a Node errno error to a coded error naming only the relative path. */
export function fsError(err: unknown, relPath: string): ServerError {
  if (err instanceof ServerError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const p = JSON.stringify(relPath);
  switch (code) {
    case 'ENOENT':
      return new ServerError('not_found', `${p} does not exist`, { cause: err });
    case 'ENOTDIR':
      return new ServerError('not_found', `${p} does not exist (a parent is not a directory)`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new ServerError('access_denied', `${p} cannot be opened: permission denied`, { cause: err });
    case 'ELOOP':
      return new ServerError('symlink_refused', `${p} is a symbolic link loop or a link that may not be followed`, {
        cause: err,
      });
    case 'ENAMETOOLONG':
      return new ServerError('path_invalid', `${p} is too long`, { cause: err });
    case 'ENXIO':
    case 'ENODEV':
      return new ServerError('special_file', `${p} is a socket or device, not a regular file`, { cause: err });
    case 'EISDIR':
      return new ServerError('not_a_file', `${p} is a directory`, { cause: err });
    case 'ABORT_ERR':
      return new ServerError('aborted', 'the request was cancelled', { cause: err });
    default:
      return new ServerError('io_failed', `${p} could not be accessed`, { cause: err });
  }
}

const rootCache = new Map<string, Promise<string>>();

/** realpath of the served root, cached per root string. */
export function realRoot(root: string): Promise<string> {
  let cached = rootCache.get(root);
  if (cached === undefined) {
    cached = realpath(root);
    cached.catch(() => rootCache.delete(root));
    rootCache.set(root, cached);
  }
  return cached;
}

/**
 * The path the kernel has open for a descriptor (Linux); undefined where /proc is missing.
 * Synchronous on purpose: /proc is answered from kernel memory, never from a disk.
 */
export function openedPathOf(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

function describe(stats: Stats): string {
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * Opens `relPath` under `root` for reading, refusing anything that leaves the root:
 * realpath + separator-terminated prefix check (symlinks resolving outside are refused,
 * CVE-2025-53109), O_NOFOLLOW on the final component against a swap after the check, O_NONBLOCK
 * so a FIFO never blocks, then fstat of the opened descriptor (regular file or directory as
 * asked) and a re-check of the path the kernel actually opened. Cost: two threadpool round trips
 * (realpath, open: both may read directories from disk); fstat and the /proc re-check run inline.
 * @throws ServerError with a code from {@link fsError} or `path_*`, `not_a_file`,
 *   `not_a_directory`, `special_file`, `symlink_refused`.
 */
export async function openInsideRoot(root: string, relInput: string, kind: OpenKind): Promise<OpenedPath> {
  const relPath = normalizeRelativePath(relInput);
  const p = JSON.stringify(relPath);
  let rootReal: string;
  try {
    rootReal = await realRoot(root);
  } catch (err) {
    throw new ServerError('io_failed', 'the served directory is unavailable', { cause: err });
  }
  let real: string;
  try {
    real = await realpath(path.join(rootReal, relPath));
  } catch (err) {
    throw fsError(err, relPath);
  }
  if (!isInside(rootReal, real)) {
    throw new ServerError('symlink_refused', `${p} is a symbolic link that leads outside the served directory`);
  }
  const flags =
    constants.O_RDONLY |
    constants.O_NOFOLLOW |
    constants.O_NONBLOCK |
    (kind === 'directory' ? constants.O_DIRECTORY : 0);
  let handle: Descriptor;
  try {
    handle = await openDescriptor(real, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new ServerError('not_a_directory', `${p} is not a directory`, { cause: err });
    }
    throw fsError(err, relPath);
  }
  try {
    // fstat of an open descriptor reads the in-memory inode: inline, no threadpool round trip.
    const stats = fstatSync(handle.fd);
    if (kind === 'file' && !stats.isFile()) {
      if (stats.isDirectory()) throw new ServerError('not_a_file', `${p} is a directory; use list-files`);
      throw new ServerError('special_file', `${p} is ${describe(stats)}, not a regular file`);
    }
    if (kind === 'directory' && !stats.isDirectory()) {
      throw new ServerError('not_a_directory', `${p} is not a directory`);
    }
    const opened = openedPathOf(handle.fd);
    if (opened !== undefined && !isInside(rootReal, opened)) {
      throw new ServerError('symlink_refused', `${p} changed while it was opened and now leads outside`);
    }
    return { handle, stats, realPath: opened ?? real, relPath };
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}
