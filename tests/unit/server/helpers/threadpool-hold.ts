// Holds libuv's threadpool with something the test controls: each thread blocks in open() of a FIFO
// for reading until the test opens the other end. File operations of the server (which runs in the
// test's process) queue behind it for exactly as long as the test wants, with no CPU calibration.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, open, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A held threadpool; {@link ThreadpoolHold.release} frees it. */
export interface ThreadpoolHold {
  /** File-system requests pending in this process right now (the held opens included). */
  pendingFsRequests(): number;
  /** Unblocks every held thread; resolves once each held open has returned. Safe to call twice. */
  release(): Promise<void>;
}

/** Pending file-system requests of this process (callback and promise APIs), from node's own list. */
export function pendingFsRequests(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'FSReqCallback' || r === 'FSReqPromise').length;
}

/**
 * Blocks every threadpool thread (UV_THREADPOOL_SIZE, which the server sets at import when unset)
 * in an open() of its own FIFO. More opens than threads would only queue, so the count need not be
 * exact; fewer would leave a thread free, so it is never smaller than the pool.
 */
export function holdThreadpool(): ThreadpoolHold {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const dir = mkdtempSync(path.join(tmpdir(), 'threadpool-hold-'));
  const fifos = Array.from({ length: threads }, (_, i) => path.join(dir, `f${i}`));
  execFileSync('mkfifo', fifos);
  const opened = fifos.map(
    (fifo) => new Promise<number>((resolve, reject) => open(fifo, 'r', (err, fd) => (err ? reject(err) : resolve(fd)))),
  );
  let released: Promise<void> | undefined;
  async function release(): Promise<void> {
    // O_RDWR on a FIFO never blocks on Linux and counts as a writer: each blocked reader returns.
    // Synchronous, because the pool that an asynchronous open would need is the one being held.
    const writers = fifos.map((fifo) => openSync(fifo, 'r+'));
    try {
      for (const fd of await Promise.all(opened)) closeSync(fd);
    } finally {
      for (const fd of writers) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    pendingFsRequests,
    release() {
      released ??= release();
      return released;
    },
  };
}
