import { readSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { ServerError } from '../errors.ts';
import { type EncodedParts, withEncodedParts } from './encoded-result.ts';
import { throwIfAborted, toolError } from './fs-errors.ts';
import { openFileCached } from './open-file-cache.ts';
import type { ToolContext, ToolOutcome, ToolSpec } from './tool-spec.ts';

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

/** The encoded parts of a page: its metadata block is the structured content's JSON, serialised once. */
function pageParts(body: object, json: string): EncodedParts {
  return {
    structuredContent: json,
    content: () => `[${JSON.stringify(body)},{"type":"text","text":${JSON.stringify(json)}}]`,
  };
}

async function run(args: z.infer<typeof inputSchema>, ctx: ToolContext): Promise<ToolOutcome> {
  const requested = args.filePath;
  let relPath = requested;
  try {
    const opened = await openFileCached(ctx.root, requested);
    relPath = opened.relPath;
    const { handle } = opened;
    try {
      const size = opened.stats.size;
      const paged = args.offset !== undefined || args.length !== undefined;
      if (!paged && size > ctx.maxFileBytes) {
        throw new ServerError(
          'file_too_large',
          `${JSON.stringify(relPath)} is ${size} bytes, over the ${ctx.maxFileBytes}-byte limit for a whole read; ` +
            `read it in pages with offset and length (e.g. offset 0, length ${ctx.maxFileBytes}, then nextOffset)`,
        );
      }
      const offset = args.offset ?? 0;
      if (offset > size) {
        throw new ServerError(
          'range_invalid',
          `offset ${offset} is past the end of ${JSON.stringify(relPath)} (${size} bytes)`,
        );
      }
      const want = Math.min(args.length ?? size - offset, ctx.maxFileBytes, size - offset);
      // Unzeroed: only the `got` bytes read are ever used.
      const raw = Buffer.allocUnsafe(want);
      let got = 0;
      if (!paged && opened.warm) {
        // Read whole a moment ago, so its pages are cached: inline (open-file-cache.ts).
        throwIfAborted(ctx.signal);
        got = readSync(handle.fd, raw, 0, want, 0);
      } else {
        while (got < want) {
          throwIfAborted(ctx.signal);
          const bytesRead = await handle.read(raw, got, Math.min(CHUNK_BYTES, want - got), offset + got);
          if (bytesRead === 0) break; // the file shrank meanwhile
          got += bytesRead;
          if (want > CHUNK_BYTES) await ctx.progress(got, want, `${got} of ${want} bytes read`);
        }
        if (!paged && got === size) opened.markWarm();
      }
      const bytes = raw.subarray(0, got);
      const end = offset + got;
      const skip = leadingContinuations(bytes);
      const trim = end < size ? incompleteTail(bytes) : 0;
      const textBytes = bytes.subarray(skip, bytes.length - trim);
      const text = asText(textBytes);
      if (text !== undefined && textBytes.length === 0 && bytes.length > 0) {
        throw new ServerError(
          'range_invalid',
          `length ${got} at offset ${offset} cuts a UTF-8 character in ${JSON.stringify(relPath)}; ask for at least 4 bytes`,
        );
      }
      const start = text === undefined ? offset : offset + skip;
      const used = text === undefined ? bytes : textBytes;
      const stop = start + used.length;
      const eof = stop >= size;
      const structured = {
        path: relPath,
        size,
        offset: start,
        length: used.length,
        encoding: text === undefined ? ('base64' as const) : ('utf8' as const),
        ...(eof ? {} : { nextOffset: stop }),
        eof,
      };
      const body =
        text === undefined
          ? {
              type: 'resource' as const,
              resource: {
                uri: `file:///${relPath.split('/').map(encodeURIComponent).join('/')}`,
                mimeType: guessMimeType(relPath),
                blob: Buffer.from(used).toString('base64'),
              },
            }
          : { type: 'text' as const, text };
      const json = JSON.stringify(structured);
      const result = { content: [body, { type: 'text' as const, text: json }], structuredContent: structured };
      return { result: withEncodedParts(result, pageParts(body, json)), path: relPath, bytes: used.length };
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
