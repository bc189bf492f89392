import { readSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { ServerError } from '../errors.ts';
import type { Descriptor } from './descriptor.ts';
import { type EncodedParts, withEncodedParts } from './encoded-result.ts';
import { throwIfAborted, toolError } from './fs-errors.ts';
import { type FileLease, openFileCached } from './open-file-cache.ts';
import type { ToolContext, ToolOutcome, ToolSpec } from './tool-spec.ts';
import { TurnMemo } from './turn-memo.ts';

/** Bytes read per chunk (a progress notification goes out after each). */
const CHUNK_BYTES = 256 * 1024;

const inputSchema = z.object({
  filePath: z.string().describe("File relative to the served root, '/'-separated."),
  offset: z.number().int().min(0).optional().describe('First byte to read. Default 0.'),
  length: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Bytes to read; capped at the server limit. Default: to the end of the file.'),
});

const outputSchema = z.object({
  path: z.string(),
  size: z.number().describe('File size in bytes'),
  offset: z.number().describe('First byte returned (moved forward to a character boundary if needed)'),
  length: z.number().describe('Bytes returned'),
  encoding: z.enum(['utf8', 'base64']),
  nextOffset: z.number().optional().describe('Where the next page starts; absent at the end of the file'),
  eof: z.boolean(),
});

const MIME: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.csv': 'text/csv',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
};

/** Guesses a MIME type from the extension; application/octet-stream when unknown. */
export function guessMimeType(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

const isContinuation = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;

/** Bytes a UTF-8 sequence starting with `lead` spans (1 for ASCII or invalid leads). */
function sequenceLength(lead: number): number {
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  if (lead >= 0xe0) return lead <= 0xef ? 3 : 1;
  if (lead >= 0xc2) return 2;
  return 1;
}

/**
 * Number of bytes at the end of `buf` that form an incomplete UTF-8 sequence (0-3); trimming
 * them keeps a page from splitting a character.
 */
export function incompleteTail(buf: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!;
    if (isContinuation(b)) continue;
    const need = b < 0x80 ? 1 : sequenceLength(b);
    return need > back ? back : 0;
  }
  return 0;
}

/** Leading continuation bytes (0-3): an offset that landed inside a character moves past them. */
export function leadingContinuations(buf: Uint8Array): number {
  let n = 0;
  while (n < 3 && isContinuation(buf[n])) n++;
  return n;
}

// ignoreBOM: a leading byte order mark is part of the file's bytes and must reach the client.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function asText(buf: Uint8Array): string | undefined {
  if (buf.includes(0)) return undefined;
  try {
    return decoder.decode(buf);
  } catch {
    return undefined;
  }
}

/** One page of a file as answered: where it starts, its length, and its content block. */
interface Page {
  readonly start: number;
  readonly length: number;
  readonly encoding: 'utf8' | 'base64';
  readonly body: ContentBlock;
  /** JSON of `body`, made at first use, then kept (the text's escaping is most of a small read). */
  json?: string;
}

type ContentBlock = CallToolResult['content'][number];

/** The encoded parts of a page: its metadata block is the structured content's JSON, serialised once. */
function pageParts(page: Page, json: string): EncodedParts {
  return {
    structuredContent: json,
    content: () => {
      page.json ??= JSON.stringify(page.body);
      return `[${page.json},{"type":"text","text":${JSON.stringify(json)}}]`;
    },
  };
}

/**
 * The page `bytes` read at `offset` of a `size`-byte file make: UTF-8 text without a character cut
 * at either end, or else the bytes as a base64 embedded resource.
 * @throws ServerError `range_invalid` when the bytes are only part of one character.
 */
function pageOf(relPath: string, bytes: Buffer, offset: number, size: number): Page {
  const skip = leadingContinuations(bytes);
  const trim = offset + bytes.length < size ? incompleteTail(bytes) : 0;
  const textBytes = bytes.subarray(skip, bytes.length - trim);
  const text = asText(textBytes);
  if (text !== undefined) {
    if (textBytes.length === 0 && bytes.length > 0) {
      throw new ServerError(
        'range_invalid',
        `length ${bytes.length} at offset ${offset} cuts a UTF-8 character in ${JSON.stringify(relPath)}; ask for at least 4 bytes`,
      );
    }
    return { start: offset + skip, length: textBytes.length, encoding: 'utf8', body: { type: 'text', text } };
  }
  const resource = {
    uri: `file:///${relPath.split('/').map(encodeURIComponent).join('/')}`,
    mimeType: guessMimeType(relPath),
    blob: bytes.toString('base64'),
  };
  return { start: offset, length: bytes.length, encoding: 'base64', body: { type: 'resource', resource } };
}

/** The tool's answer for `page` of a `size`-byte file. */
function pageOutcome(relPath: string, size: number, page: Page): ToolOutcome {
  const stop = page.start + page.length;
  const eof = stop >= size;
  const structured = {
    path: relPath,
    size,
    offset: page.start,
    length: page.length,
    encoding: page.encoding,
    ...(eof ? {} : { nextOffset: stop }),
    eof,
  };
  const json = JSON.stringify(structured);
  const result = { content: [page.body, { type: 'text' as const, text: json }], structuredContent: structured };
  return { result: withEncodedParts(result, pageParts(page, json)), path: relPath, bytes: page.length };
}

/**
 * Whole files read inline in this turn, by held descriptor (tools/turn-memo.ts: every request of
 * the turn was read before the turn began, so bytes read in it are fresh for each of them, and
 * the text is decoded and escaped once for all of them).
 */
const readThisTurn = new TurnMemo<Descriptor, { readonly ctimeMs: number; readonly page: Page }>();

/** The whole of a warm file, read inline (its pages are cached: open-file-cache.ts), or this turn's read of it. */
function readWarm(opened: FileLease, want: number): Page {
  const { handle, stats } = opened;
  const shared = readThisTurn.get(handle);
  if (shared !== undefined && shared.ctimeMs === stats.ctimeMs) return shared.page;
  const raw = Buffer.allocUnsafe(want);
  const got = readSync(handle.fd, raw, 0, want, 0);
  const page = pageOf(opened.relPath, raw.subarray(0, got), 0, stats.size);
  // Frozen: the answers of the turn share its content block.
  Object.freeze(page.body);
  readThisTurn.set(handle, { ctimeMs: stats.ctimeMs, page });
  return page;
}

/** Reads `want` bytes at `offset` through the threadpool, in chunks with progress; a whole read marks the entry warm. */
async function readChunks(opened: FileLease, offset: number, want: number, whole: boolean, ctx: ToolContext) {
  // Unzeroed: only the `got` bytes read are ever used.
  const raw = Buffer.allocUnsafe(want);
  let got = 0;
  while (got < want) {
    throwIfAborted(ctx.signal);
    const bytesRead = await opened.handle.read(raw, got, Math.min(CHUNK_BYTES, want - got), offset + got);
    if (bytesRead === 0) break; // the file shrank meanwhile
    got += bytesRead;
    if (want > CHUNK_BYTES) await ctx.progress(got, want, `${got} of ${want} bytes read`);
  }
  if (whole && got === opened.stats.size) opened.markWarm();
  return raw.subarray(0, got);
}

/** How many bytes to read at `offset`. @throws ServerError `file_too_large` or `range_invalid`. */
function pageLength(
  relPath: string,
  size: number,
  offset: number,
  length: number | undefined,
  maxBytes: number,
  whole: boolean,
): number {
  if (whole && size > maxBytes) {
    throw new ServerError(
      'file_too_large',
      `${JSON.stringify(relPath)} is ${size} bytes, over the ${maxBytes}-byte limit for a whole read; ` +
        `read it in pages with offset and length (e.g. offset 0, length ${maxBytes}, then nextOffset)`,
    );
  }
  if (offset > size) {
    throw new ServerError(
      'range_invalid',
      `offset ${offset} is past the end of ${JSON.stringify(relPath)} (${size} bytes)`,
    );
  }
  return Math.min(length ?? size - offset, maxBytes, size - offset);
}

async function run(args: z.infer<typeof inputSchema>, ctx: ToolContext): Promise<ToolOutcome> {
  let relPath = args.filePath;
  try {
    const opened = await openFileCached(ctx.root, args.filePath);
    relPath = opened.relPath;
    try {
      const size = opened.stats.size;
      const whole = args.offset === undefined && args.length === undefined;
      const offset = args.offset ?? 0;
      const want = pageLength(relPath, size, offset, args.length, ctx.maxFileBytes, whole);
      throwIfAborted(ctx.signal);
      if (whole && opened.warm) return pageOutcome(relPath, size, readWarm(opened, want));
      const bytes = await readChunks(opened, offset, want, whole, ctx);
      return pageOutcome(relPath, size, pageOf(relPath, bytes, offset, size));
    } finally {
      opened.release();
    }
  } catch (err) {
    return { ...toolError(err, relPath), path: relPath, bytes: 0 };
  }
}

/** `read-file`: reads a file (or a byte range of it) under the served root. Scope file.read. */
export const readFileTool: ToolSpec<typeof inputSchema, typeof outputSchema> = {
  name: 'read-file',
  scope: 'file.read',
  title: 'Read file',
  description:
    'Reads a file under the served directory. UTF-8 text comes back as text, anything else as a base64 embedded ' +
    'resource. Files over the size limit must be read in pages with offset and length (bytes); pages never split ' +
    'a UTF-8 character, and nextOffset says where the next page starts.',
  inputSchema,
  outputSchema,
  annotations: { title: 'Read file', readOnlyHint: true, openWorldHint: false, idempotentHint: true },
  run,
};
