import type { DecodedFrame } from 'mcp-ws-common';

/** A frame as `ws` delivered it, decoded once when first looked at. */
export interface RawFrame {
  readonly data: Buffer | ArrayBuffer | Buffer[];
  readonly isBinary: boolean;
  readonly bytes: number;
  decoded?: DecodedFrame;
}

/** Bookkeeping per waiting frame beside its payload (array slot, object, decoded message), in bytes. */
const FRAME_OVERHEAD = 128;

/**
 * Frames read from a socket that wait for their connection's budget, in arrival order. Reading
 * goes on while they total at most `maxBytes`, so control frames (pongs) keep arriving; above it,
 * `setReadPaused(true)` stops reading, and below half of it reading resumes. What a paused socket
 * still delivers is what `ws` had already received, so the backlog stays within `maxBytes` plus
 * one read (64 KiB) and one message.
 */
export class InboundBacklog {
  readonly #maxBytes: number;
  readonly #setReadPaused: (paused: boolean) => void;
  #frames: RawFrame[] = [];
  #head = 0;
  #bytes = 0;
  #readPaused = false;

  constructor(maxBytes: number, setReadPaused: (paused: boolean) => void) {
    this.#maxBytes = maxBytes;
    this.#setReadPaused = setReadPaused;
  }

  /** Frames waiting. */
  get size(): number {
    return this.#frames.length - this.#head;
  }

  /** True while the socket is not read. */
  get readPaused(): boolean {
    return this.#readPaused;
  }

  push(data: RawFrame['data'], isBinary: boolean): void {
    const length = Buffer.isBuffer(data)
      ? data.length
      : Array.isArray(data)
        ? data.reduce((n, b) => n + b.length, 0)
        : data.byteLength;
    const bytes = length + FRAME_OVERHEAD;
    this.#frames.push({ data, isBinary, bytes });
    this.#bytes += bytes;
    if (!this.#readPaused && this.#bytes > this.#maxBytes) {
      this.#readPaused = true;
      this.#setReadPaused(true);
    }
  }

  /** The oldest waiting frame, left in place. */
  peek(): RawFrame | undefined {
    return this.#frames[this.#head];
  }

  /** Removes the oldest waiting frame. */
  shift(): RawFrame | undefined {
    const frame = this.#frames[this.#head];
    if (frame === undefined) return undefined;
    this.#frames[this.#head] = undefined as unknown as RawFrame;
    this.#head++;
    this.#bytes -= frame.bytes;
    // Compact once the consumed prefix dominates (amortised O(1) per frame).
    if (this.#head === this.#frames.length) {
      this.#frames = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
    if (this.#readPaused && this.#bytes <= this.#maxBytes / 2) {
      this.#readPaused = false;
      this.#setReadPaused(false);
    }
    return frame;
  }

  /** Drops every frame (the connection closed). */
  clear(): void {
    this.#frames = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
