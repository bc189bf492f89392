/**
 * A keep-alive HTTP/1.1 connection that sends ready-made request bytes and reads each response
 * just far enough to know where it ends (status, `Content-Length` or chunked framing): the load
 * generator's side of an HTTP row costs a fraction of a `node:http` request, so the figures are
 * the server's. One request at a time per connection, as a browser or SDK client without
 * pipelining sends them.
 */
import { connect, type Socket } from 'node:net';

/** The response to one request: its status and body length in bytes (chunk framing excluded). */
export interface RawReply {
  readonly status: number;
  readonly bodyBytes: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** Makes a POST's bytes for a body: request line and `headers` (with `Host`) made once, `Content-Length` per body. */
export function postWriter(url: URL, headers: Readonly<Record<string, string>>): (body: string) => Buffer {
  const head = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  const prefix = `${head.join('\r\n')}\r\ncontent-length: `;
  return (body) => Buffer.from(`${prefix}${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Where the body of a chunked response ends (after the last chunk's CRLF), or -1 if not yet; adds its size to `size`. */
function chunkedEnd(buf: Buffer, from: number, size: { bytes: number }): number {
  let at = from;
  size.bytes = 0;
  for (;;) {
    const line = buf.indexOf(CRLF, at);
    if (line < 0) return -1;
    const length = Number.parseInt(buf.toString('latin1', at, line), 16);
    if (Number.isNaN(length)) throw new Error('bad chunk size');
    const next = line + 2 + length + 2;
    if (next > buf.length) return -1;
    if (length === 0) return next;
    size.bytes += length;
    at = next;
  }
}

export class RawHttpConnection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (reply: RawReply) => void; reject: (err: Error) => void } | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  static open(url: URL): Promise<RawHttpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.off('error', reject);
        resolve(new RawHttpConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends `bytes` (one whole request) and answers its response. */
  request(bytes: Buffer): Promise<RawReply> {
    if (this.#waiting) return Promise.reject(new Error('a request is already in flight'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(bytes);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const headEnd = this.#buffer.indexOf(HEADER_END);
    if (headEnd < 0) return;
    const head = this.#buffer.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
    const bodyStart = headEnd + 4;
    let end: number;
    let bodyBytes: number;
    if (length !== undefined) {
      bodyBytes = Number(length);
      end = bodyStart + bodyBytes;
      if (end > this.#buffer.length) return;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const size = { bytes: 0 };
      try {
        end = chunkedEnd(this.#buffer, bodyStart, size);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      if (end < 0) return;
      bodyBytes = size.bytes;
    } else {
      this.#fail(new Error(`response without a length: ${head.split('\r\n')[0]}`));
      return;
    }
    this.#buffer = end === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(end);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve({ status, bodyBytes });
  }

  #fail(err: Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(err);
  }
}
