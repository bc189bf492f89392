/**
 * Work queued while Node reads sockets (the poll phase of an event-loop iteration) is run together
 * in that iteration's check phase, in one callback: a turn (tools/turn-memo.ts) that serves every
 * HTTP request read in the iteration, so they share what a turn establishes once (the open-file
 * cache's proof, a small file's read) as the frames of one WebSocket read do. Every request in the
 * batch was read before the check phase began, hence before anything the batch proves. The wait
 * adds nothing a request would not wait anyway: the rest of the poll phase runs before the check
 * phase whether or not its work is deferred.
 */
export class CheckPhaseBatch {
  #jobs: (() => void)[] = [];
  readonly #run = (): void => {
    const jobs = this.#jobs;
    this.#jobs = [];
    for (const job of jobs) {
      try {
        job();
      } catch (err) {
        this.#onError(err);
      }
    }
  };
  readonly #onError: (err: unknown) => void;

  /** `onError`: told what a job threw (the others still run). */
  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  /** Runs `job` in this iteration's check phase, after the jobs queued before it. */
  add(job: () => void): void {
    if (this.#jobs.length === 0) setImmediate(this.#run);
    this.#jobs.push(job);
  }
}
