/**
 * A memo that forgets at the end of the current event-loop turn: one I/O callback and the
 * microtasks it leaves. Node reads a socket only between turns, so every request served in a turn
 * was read before the turn began; a fact established in the turn (a proof that a path names a held
 * file, the bytes read from it) is as fresh for each of them as one established for it alone, and
 * a request sent after a change is read in a later turn and establishes it again. The memo is
 * cleared by a microtask queued at its first entry, which runs before Node reads sockets again;
 * entries made later in the same microtask checkpoint may be dropped sooner than that (never later).
 * A caller that changes files and reads them again in one synchronous run is not a request and
 * must not rely on what a turn memo holds.
 */
export class TurnMemo<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #clear = (): void => this.#entries.clear();

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): void {
    if (this.#entries.size === 0) queueMicrotask(this.#clear);
    this.#entries.set(key, value);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }
}
