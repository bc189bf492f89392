import type { IncomingMessage } from 'node:http';

/** The body went over its limit (declared by Content-Length or counted while reading). */
export class BodyTooLarge extends Error {}

/**
 * Reads a request body of at most `limit` bytes.
 * @throws BodyTooLarge when it is larger (the rest is drained, not buffered)
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
