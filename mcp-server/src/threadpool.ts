/**
 * Sizes libuv's threadpool before its first use; imported first by the entry point (the pool
 * reads UV_THREADPOOL_SIZE once, when the first file operation starts it).
 *
 * Why: every tool call is a few short file syscalls on the pool (realpath, open, read, lstat).
 * libuv's fixed default of 4 threads on a 2-core machine spends its time waking threads and
 * contending for the queue: measured on 2 cores, read-file 1 KiB at 32 in flight ran at about
 * 19k calls/s with 4 threads, 24k with 2 and 32k with 1. One thread per core (at least 2, so one
 * slow disk read does not stall every call) keeps the wakeups down. Deployments that wait on slow
 * storage (cold cache, network filesystems) can set UV_THREADPOOL_SIZE higher; a set value wins.
 */
import { availableParallelism } from 'node:os';

/** The pool size used when UV_THREADPOOL_SIZE is unset: the cores available, at least 2. */
export function defaultThreadpoolSize(): number {
  return Math.max(2, availableParallelism());
}

process.env.UV_THREADPOOL_SIZE ??= String(defaultThreadpoolSize());
