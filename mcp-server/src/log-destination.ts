/**
 * Where JSON log lines go by default: stdout, one write per event-loop turn. pino writes each
 * line with its own `write`, and stdout to a file or pipe is synchronous in Node: one syscall per
 * audit line. Lines logged in the same turn are joined and written together in the turn's check
 * phase (order kept), and whatever is pending is written at process exit.
 * (pino's asynchronous destination batches too, but its exit flush can overtake a write still in
 * flight and reorder the last lines; a synchronous write per turn keeps the audit order.)
 */

/** A pino destination that batches lines per event-loop turn. */
export interface BatchedDestination {
  write(line: string): boolean;
  /** Writes pending lines now. */
  flush(): void;
}

/** Batches lines written to `target` within one event-loop turn into one `target.write`. */
export function batchPerTurn(target: NodeJS.WritableStream): BatchedDestination {
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending === '') return;
    const out = pending;
    pending = '';
    target.write(out);
  };
  return {
    write(line: string): boolean {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        // unref'd: pending lines never keep the process alive; exit flushes them instead.
        setImmediate(flush).unref();
      }
      return true;
    },
    flush,
  };
}

let stdout: BatchedDestination | undefined;

/** The process-wide batched stdout (one exit hook however many loggers use it). */
export function batchedStdout(): BatchedDestination {
  if (stdout === undefined) {
    const destination = batchPerTurn(process.stdout);
    process.once('exit', () => destination.flush());
    stdout = destination;
  }
  return stdout;
}
