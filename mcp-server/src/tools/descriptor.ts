/**
 * A raw file descriptor with the few operations the file tools need, each costing as little as
 * the kernel allows. Why not fs/promises' FileHandle: every FileHandle method is a threadpool
 * round trip with extra promise and ref-count bookkeeping, and `close()` is one too. Here only the
 * operations that may wait for a disk (open, read) go to the threadpool; close runs inline.
 */
import { closeSync, fstatSync, open as openCallback, read as readCallback } from 'node:fs';

/** Opens `file` with `flags` on the threadpool; resolves the descriptor. */
export function openDescriptor(file: string, flags: number): Promise<Descriptor> {
  return new Promise((resolve, reject) => {
    openCallback(file, flags, (err, fd) => (err ? reject(err) : resolve(new Descriptor(fd))));
  });
}

/** `dev:ino` of an open descriptor (bigint: inode numbers may exceed 2^53). */
export function identityOf(fd: number): string {
  const st = fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

/** An open descriptor owned by one caller, who must {@link Descriptor.close} it. */
export class Descriptor {
  #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The descriptor number; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Reads up to `length` bytes at file `position` into `buffer` at `offset` (on the threadpool:
   * the data may not be in the page cache). Resolves the bytes read (0 at the end of the file).
   * @throws Error (EBADF) once closed.
   */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      readCallback(this.#fd, buffer, offset, length, position, (err, bytesRead) =>
        err ? reject(err) : resolve(bytesRead),
      );
    });
  }

  /**
   * Closes the descriptor; a second call does nothing. Runs inline: closing a descriptor opened
   * read-only writes nothing back, so it never waits for a disk, and a threadpool round trip
   * would only add latency. Returns a promise for FileHandle-compatible callers.
   */
  close(): Promise<void> {
    if (this.#fd >= 0) {
      const fd = this.#fd;
      this.#fd = -1;
      try {
        closeSync(fd);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return Promise.resolve();
  }
}
