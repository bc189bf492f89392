/**
 * Walks paused between list-files pages, so the next page continues where the last one stopped
 * (O(page) instead of re-reading the directory). Bounded: at most {@link MAX_HELD_LISTINGS} walks
 * (each holds at most two descriptors per level), each dropped after {@link HELD_LISTING_IDLE_MS}
 * without a call. Each client (token `azp`) holds at most {@link MAX_HELD_LISTINGS_PER_CLIENT}: a
 * client over its share loses its own oldest walk, and when the store is full the oldest walk of
 * the client holding the most goes, so no client can evict the walks of one that holds fewer. A
 * dropped walk costs only speed: its cursor still resumes, by skipping names to its position (see
 * list-cursor.ts).
 */
import { randomBytes } from 'node:crypto';
import type { DirWalker } from './dir-walker.ts';

/** Most walks held across all clients. */
export const MAX_HELD_LISTINGS = 64;
/** Most walks one client (token `azp`) holds. */
export const MAX_HELD_LISTINGS_PER_CLIENT = 16;
/** A held walk unused this long (ms) is closed. */
export const HELD_LISTING_IDLE_MS = 60_000;

interface Held {
  readonly walker: DirWalker;
  /** The listing the walk belongs to (root, directory, depth, identity). */
  readonly key: string;
  /** The client (token `azp`) whose call paused it. */
  readonly client: string;
  readonly expires: number;
}

const held = new Map<string, Held>();
/** Walks held per client. */
const perClient = new Map<string, number>();
let sweeper: NodeJS.Timeout | undefined;

function remove(id: string, h: Held): void {
  held.delete(id);
  const n = (perClient.get(h.client) ?? 1) - 1;
  if (n > 0) perClient.set(h.client, n);
  else perClient.delete(h.client);
}

function drop(id: string, h: Held): void {
  remove(id, h);
  void h.walker.close();
}

/** Drops the oldest walk of `client` (insertion order is age order). */
function dropOldestOf(client: string): void {
  for (const [id, h] of held) {
    if (h.client === client) {
      drop(id, h);
      return;
    }
  }
}

/** The client holding the most walks; among equals, the one whose oldest walk is oldest. */
function greediest(): string | undefined {
  let most: string | undefined;
  for (const h of held.values()) {
    if (most === undefined || (perClient.get(h.client) ?? 0) > (perClient.get(most) ?? 0)) most = h.client;
  }
  return most;
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

/** Stores a paused walk of listing `key` for `client`; returns its id (128 random bits, base64url). */
export function holdListing(walker: DirWalker, key: string, client: string): string {
  sweep();
  while ((perClient.get(client) ?? 0) >= MAX_HELD_LISTINGS_PER_CLIENT) dropOldestOf(client);
  while (held.size >= MAX_HELD_LISTINGS) {
    const victim = greediest();
    if (victim === undefined) break;
    dropOldestOf(victim);
  }
  const id = randomBytes(16).toString('base64url');
  held.set(id, { walker, key, client, expires: Date.now() + HELD_LISTING_IDLE_MS });
  perClient.set(client, (perClient.get(client) ?? 0) + 1);
  sweeper ??= setInterval(sweep, HELD_LISTING_IDLE_MS / 2).unref();
  return id;
}

/**
 * Takes the walk stored under `id` out of the store (a cursor is used once: a re-sent page
 * resumes by name instead); undefined when absent, expired, of another listing or of another
 * client (whose walk stays where it is).
 */
export function takeListing(id: string, key: string, client: string): DirWalker | undefined {
  const h = held.get(id);
  if (h === undefined || h.client !== client) return undefined;
  remove(id, h);
  if (h.key !== key || h.expires <= Date.now()) {
    void h.walker.close();
    return undefined;
  }
  return h.walker;
}

/** Number of walks held now, in all or by one client (for tests and metrics). */
export function heldListingCount(client?: string): number {
  return client === undefined ? held.size : (perClient.get(client) ?? 0);
}
