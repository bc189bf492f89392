/**
 * The memory a connection's pending writes keep alive, when frames leave as Buffers.
 *
 * A small Buffer made from a string (under half of `Buffer.poolSize`, which is 64 KiB in Node 24) is a
 * slice of a chunk of Node's shared buffer pool, and a pending write keeps the whole chunk alive,
 * not only its slice. Counted at their own length, small frames held by a peer that stops reading
 * could each keep a whole chunk: many times the connection's byte budget. So the bytes a pending
 * frame holds are its chunk's full size for the first pending frame cut from that chunk and 0 for
 * the others, until the last of them is written; a frame that owns its memory holds its length.
 * The pool only moves forward, so the frames of one connection cut from one chunk are consecutive
 * among that connection's frames: following the current chunk counts each chunk once.
 */

/**
 * A pool chunk that pending frames of one connection are slices of. It lets go of the chunk once
 * its last pending frame is written, so an idle connection keeps no chunk alive.
 */
export class PinnedChunk {
  #buffer: ArrayBufferLike | undefined;
  readonly #size: number;
  #pending = 0;

  constructor(buffer: ArrayBufferLike) {
    this.#buffer = buffer;
    this.#size = buffer.byteLength;
  }

  /** Whether frames cut from `buffer` count here (false once this chunk's last frame was written). */
  isOf(buffer: ArrayBufferLike): boolean {
    return this.#buffer === buffer;
  }

  /** One more pending frame in the chunk: the chunk's size when it begins to be held, else 0. */
  add(): number {
    return this.#pending++ === 0 ? this.#size : 0;
  }

  /** One pending frame fewer (its write completed): the chunk's size when it is held no more, else 0. */
  remove(): number {
    if (--this.#pending > 0) return 0;
    this.#buffer = undefined;
    return this.#size;
  }
}

/** Follows the pool chunk a connection's frames are cut from. */
export class PoolPins {
  #current: PinnedChunk | undefined;

  /** The chunk `payload` is a slice of; undefined when the payload owns its memory. */
  chunkOf(payload: Buffer): PinnedChunk | undefined {
    const buffer = payload.buffer;
    if (buffer.byteLength === payload.length) return undefined;
    if (this.#current === undefined || !this.#current.isOf(buffer)) this.#current = new PinnedChunk(buffer);
    return this.#current;
  }
}
