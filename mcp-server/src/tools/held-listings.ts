/**
 * Walks paused between list-files pages, so the next page continues where the last one stopped
 * (O(page) instead of re-reading the directory). Bounded: at most {@link MAX_HELD_LISTINGS} walks
 * (each holds at most two descriptors per level), each dropped after {@link HELD_LISTING_IDLE_MS}
 * without a call; the oldest is dropped when full. A dropped walk costs only speed: its cursor
 * still resumes, by skipping names to its position (see list-cursor.ts).
 */
import { randomBytes } from 'node:crypto';
import type { DirWalker } from './dir-walker.ts';

/** Most walks held across all clients. */
export const MAX_HELD_LISTINGS = 64;
/** A held walk unused this long (ms) is closed. */
export const HELD_LISTING_IDLE_MS = 60_000;

interface Held {
  readonly walker: DirWalker;
  /** The listing the walk belongs to (root, directory, depth, identity). */
  readonly key: string;
  readonly expires: number;
}

const held = new Map<string, Held>();
let sweeper: NodeJS.Timeout | undefined;

function drop(id: string, h: Held): void {
  held.delete(id);
  void h.walker.close();
}

function sweep(): void {
  const now = Date.now();
  // Insertion order is expiry order: every walk gets the same idle time when stored.
  for (const [id, h] of held) {
    if (h.expires > now) break;
    drop(id, h);
  }
  if (held.size === 0 && sweeper !== undefined) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/** Stores a paused walk of listing `key`; returns its id (128 random bits, base64url). */
export function holdListing(walker: DirWalker, key: string): string {
  sweep();
  for (const [id, h] of held) {
    if (held.size < MAX_HELD_LISTINGS) break;
    drop(id, h);
  }
  const id = randomBytes(16).toString('base64url');
  held.set(id, { walker, key, expires: Date.now() + HELD_LISTING_IDLE_MS });
  sweeper ??= setInterval(sweep, HELD_LISTING_IDLE_MS / 2).unref();
  return id;
}

/**
 * Takes the walk stored under `id` out of the store (a cursor is used once: a re-sent page
 * resumes by name instead); undefined when absent, expired or of another listing.
 */
export function takeListing(id: string, key: string): DirWalker | undefined {
  const h = held.get(id);
  if (h === undefined) return undefined;
  held.delete(id);
  if (h.key !== key || h.expires <= Date.now()) {
    void h.walker.close();
    return undefined;
  }
  return h.walker;
}

/** Number of walks held now (for tests and metrics). */
export function heldListingCount(): number {
  return held.size;
}
