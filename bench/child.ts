/**
 * Request/response over the IPC channel of a forked benchmark process: the parent calls a named
 * command, the child answers it. Each benchmark role (server, echo, peer, load) is one child.
 */
import { type ChildProcess, fork } from 'node:child_process';

interface Call {
  readonly id: number;
  readonly cmd: string;
  readonly args: unknown;
}
interface Answer {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

/** Options of {@link startChild}. */
export interface ChildOptions {
  /** Extra Node flags (e.g. `--max-old-space-size=4096`). Default none. */
  readonly execArgv?: readonly string[];
  /** Environment of the child. Default the parent's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Time allowed for one command, in ms. Default 600000. */
  readonly timeoutMs?: number;
  /** Where the child's stdout goes: `inherit` or `ignore` (/dev/null, e.g. for JSON logs). Default inherit. */
  readonly stdout?: 'inherit' | 'ignore';
}

/** A forked benchmark process. */
export interface Child {
  readonly pid: number;
  /**
   * Runs `cmd` in the child and resolves with its answer.
   * @throws Error when the child reports an error, exits, or the command times out.
   */
  call<T>(cmd: string, args?: unknown): Promise<T>;
  /** Asks the child to exit (SIGTERM after 2 s) and waits for it. */
  stop(): Promise<void>;
}

/** Forks `module` (a .ts file run by type stripping, `development` condition) as a {@link Child}. */
export function startChild(module: URL, options: ChildOptions = {}): Child {
  const proc: ChildProcess = fork(module, [], {
    execArgv: ['--conditions=development', '--no-warnings', ...(options.execArgv ?? [])],
    env: options.env ?? process.env,
    stdio: ['ignore', options.stdout ?? 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${module.pathname} exited (${code ?? signal})`));
      pending.clear();
      resolve();
    }),
  );
  proc.on('message', (raw) => {
    const answer = raw as Answer;
    const p = pending.get(answer.id);
    if (!p) return;
    pending.delete(answer.id);
    if (answer.ok) p.resolve(answer.value);
    else p.reject(new Error(answer.error));
  });
  return {
    pid: proc.pid ?? -1,
    call<T>(cmd: string, args?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${module.pathname} has exited`));
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${cmd} timed out in ${module.pathname}`));
        }, options.timeoutMs ?? 600_000);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ id, cmd, args } satisfies Call);
      });
    },
    async stop() {
      if (exited) return;
      proc.send({ id: 0, cmd: 'exit', args: undefined } satisfies Call);
      const timer = setTimeout(() => proc.kill('SIGTERM'), 2000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Command handlers of a child; `exit` is built in. */
export type Handlers = Record<string, (args: never) => unknown>;

/**
 * Child side: answers the parent's commands with `handlers` until `exit` (which runs `onExit`
 * first) or until the IPC channel closes.
 */
export function serveCommands(handlers: Handlers, onExit?: () => Promise<void>): void {
  process.on('message', (raw) => {
    const call = raw as Call;
    if (call.cmd === 'exit') {
      (onExit ?? (async () => {}))().finally(() => process.exit(0));
      return;
    }
    const handler = handlers[call.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${call.cmd}`);
        return handler(call.args as never);
      })
      .then(
        (value) => process.send?.({ id: call.id, ok: true, value } satisfies Answer),
        (err: unknown) => process.send?.({ id: call.id, ok: false, error: String((err as Error)?.stack ?? err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}
