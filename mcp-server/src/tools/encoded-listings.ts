/**
 * The serialised form of recent complete listings, reused while a directory lists exactly the same
 * entries: a listing is compared field by field with the last one of the same walk (each entry
 * was just lstat'ed, so the comparison is against current data), and only when every entry is
 * identical are its text and JSON taken again instead of serialised (tools/encoded-result.ts).
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { WalkEntry } from './dir-walker.ts';
import { type EncodedParts, textBlockParts, withEncodedParts } from './encoded-result.ts';

/** Listings remembered at most (oldest forgotten first). */
const MAX_LISTINGS = 64;
/** Only listings of at most this many entries are remembered (about 40 KiB of text each). */
const MAX_ENTRIES = 256;

/** A listing's structured content. */
export interface Listing {
  readonly directory: string;
  readonly entries: readonly WalkEntry[];
  readonly nextCursor?: string;
}

interface Encoded {
  readonly listing: Listing;
  readonly text: string;
  readonly parts: EncodedParts;
}

const recent = new Map<string, Encoded>();
let reused = 0;

function sameEntries(a: readonly WalkEntry[], b: readonly WalkEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as WalkEntry;
    const y = b[i] as WalkEntry;
    if (x.name !== y.name || x.type !== y.type || x.path !== y.path || x.size !== y.size || x.modified !== y.modified)
      return false;
  }
  return true;
}

function sameListing(a: Listing, b: Listing): boolean {
  return a.directory === b.directory && a.nextCursor === b.nextCursor && sameEntries(a.entries, b.entries);
}

/**
 * The result of `listing` (its JSON as the text block, the listing as structured content), with
 * its encoded parts; the text of the last listing under `key` when the entries are the same.
 */
export function listingResult(key: string, listing: Listing): CallToolResult {
  let encoded = recent.get(key);
  if (encoded !== undefined && sameListing(encoded.listing, listing)) reused++;
  else {
    const text = JSON.stringify(listing);
    encoded = { listing, text, parts: textBlockParts(text) };
    if (listing.nextCursor === undefined && listing.entries.length <= MAX_ENTRIES) remember(key, encoded);
  }
  const result = {
    content: [{ type: 'text' as const, text: encoded.text }],
    structuredContent: { ...encoded.listing },
  };
  return withEncodedParts(result, encoded.parts);
}

function remember(key: string, encoded: Encoded): void {
  recent.delete(key);
  recent.set(key, encoded);
  if (recent.size > MAX_LISTINGS) recent.delete(recent.keys().next().value as string);
}

/** Listings answered with a remembered text so far (tests and the profile). */
export function reusedListingCount(): number {
  return reused;
}
