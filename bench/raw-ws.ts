/**
 * A WebSocket client made of ready-made bytes, for timing handshakes: the upgrade request (token,
 * subprotocol `mcp`, a fixed key whose `Sec-WebSocket-Accept` is checked), then masked frames
 * built once. What `ws`'s client spends per connection (its key, http.request, the upgrade parse)
 * would otherwise sit in every figure; this is to a handshake what raw-http.ts is to a POST.
 * Strict where a wrong answer would be timed as a right one: a status other than 101, a wrong
 * accept key or a close frame before the answer fail the handshake.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const KEY = 'bWNwLWJlbmNoLWtleS0xNg=='; // base64 of 16 bytes, as RFC 6455 asks
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
const HEADER_END = Buffer.from('\r\n\r\n');
const MASK = Buffer.from([0x6d, 0x63, 0x70, 0x21]);

/** A client frame (FIN, masked) carrying `payload`; opcode 1 = text, 8 = close. */
export function clientFrame(payload: string | Buffer, opcode = 1): Buffer {
  const body = Buffer.from(payload);
  const n = body.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.alloc(head + 4 + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  MASK.copy(frame, head);
  for (let i = 0; i < n; i++) frame[head + 4 + i] = body[i]! ^ MASK[i & 3]!;
  return frame;
}

/** The upgrade request for `url` with a bearer `token`. */
export function upgradeRequest(url: URL, token: string | undefined): Buffer {
  const lines = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `host: ${url.host}`,
    'connection: Upgrade',
    'upgrade: websocket',
    'sec-websocket-version: 13',
    `sec-websocket-key: ${KEY}`,
    'sec-websocket-protocol: mcp',
  ];
  if (token) lines.push(`authorization: Bearer ${token}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
}

/** One server frame: its opcode and payload. */
interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** The first whole frame of `buf` and where it ends, or undefined while it is incomplete. */
function parseFrame(buf: Buffer): { frame: ServerFrame; end: number } | undefined {
  if (buf.length < 2) return undefined;
  if (buf[1]! & 0x80) throw new Error('the server sent a masked frame');
  let length = buf[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    at = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  if (buf.length < at + length) return undefined;
  return { frame: { opcode: buf[0]! & 0x0f, payload: buf.subarray(at, at + length) }, end: at + length };
}

/** A raw connection after its upgrade: send ready-made frames, await the frame an answer test accepts. */
export class RawWs {
  readonly #socket: Socket;
  #pending: Buffer = Buffer.alloc(0);
  #waiter: ((frame: ServerFrame) => boolean) | undefined;
  #settle: ((err?: Error) => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#take(chunk));
    socket.on('close', () => this.#settle?.(new Error('the server closed the connection')));
    socket.on('error', (err) => this.#settle?.(err));
  }

  /**
   * Connects and upgrades with `request` (made by {@link upgradeRequest}).
   * @throws Error on a status other than 101 or a wrong accept key.
   */
  static open(url: URL, request: Buffer): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
      let head: Buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const end = head.indexOf(HEADER_END);
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', reject);
        const text = head.toString('latin1', 0, end);
        if (
          !text.startsWith('HTTP/1.1 101') ||
          !text.toLowerCase().includes(`sec-websocket-accept: ${ACCEPT.toLowerCase()}`)
        ) {
          socket.destroy();
          reject(new Error(`upgrade refused: ${text.split('\r\n', 1)[0]}`));
          return;
        }
        const ws = new RawWs(socket);
        ws.#take(head.subarray(end + 4));
        resolve(ws);
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('the server closed the connection before upgrading')));
      socket.once('connect', () => socket.write(request));
    });
  }

  /** Sends `frame` and resolves with the first text frame `accept` takes (others are skipped). */
  request(frame: Buffer, accept: (payload: Buffer) => boolean): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let answer: Buffer | undefined;
      this.#waiter = (f) => {
        if (f.opcode === 8) throw new Error(`the server closed with ${f.payload.readUInt16BE(0)} before answering`);
        if (f.opcode !== 1 || !accept(f.payload)) return false;
        answer = f.payload;
        return true;
      };
      this.#settle = (err) => {
        this.#waiter = this.#settle = undefined;
        if (err) reject(err);
        else resolve(answer!);
      };
      this.#socket.write(frame);
    });
  }

  /** Sends a frame without waiting for anything. */
  send(frame: Buffer): void {
    this.#socket.write(frame);
  }

  /** Sends a close frame (1000) and waits for the server to end the connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#settle = () => resolve();
      this.#socket.write(CLOSE);
      this.#socket.end();
    });
  }

  #take(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    for (;;) {
      let parsed: ReturnType<typeof parseFrame>;
      try {
        parsed = parseFrame(this.#pending);
        if (parsed === undefined) return;
        this.#pending = this.#pending.subarray(parsed.end);
        if (this.#waiter?.(parsed.frame)) this.#settle?.();
      } catch (err) {
        this.#settle?.(err as Error);
        this.#socket.destroy();
        return;
      }
    }
  }
}

const CLOSE = clientFrame(Buffer.from([0x03, 0xe8]), 8);
