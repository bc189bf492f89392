// Parent side of server-child.ts: start the real server in a child process and ask it for RSS.
import { fork } from 'node:child_process';

export interface ChildStats {
  /** Resident set size after a full GC, in bytes. */
  rss: number;
  /** V8 heap in use and memory outside it (Buffers), after the GC, in bytes. */
  heapUsed: number;
  external: number;
  /** Tool calls that ran. */
  calls: number;
  /** WebSocket closes by reason (e.g. heartbeat_timeout). */
  closed: Record<string, number>;
}

export interface ServerChild {
  readonly port: number;
  readonly wsUrl: string;
  readonly httpUrl: string;
  stats(): Promise<ChildStats>;
  stop(): Promise<void>;
}

/** Forks the server with `env` (PORT=0, HOST=127.0.0.1 added) and resolves once it is ready. */
export async function startServerChild(env: Record<string, string>): Promise<ServerChild> {
  const proc = fork(new URL('./server-child.ts', import.meta.url), [], {
    execArgv: ['--conditions=development', '--no-warnings', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 1;
  proc.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.value);
    else p?.reject(new Error(m.error));
  });
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      for (const p of pending.values()) p.reject(new Error('server child exited'));
      resolve();
    }),
  );
  const call = <T>(cmd: string, extra: Record<string, unknown> = {}): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.send({ id, cmd, ...extra });
    });
  const started = await call<{ port: number; wsUrl: string; httpUrl: string }>('start', {
    // OAUTH_AUDIENCE: LocalIssuer signs aud mcp-server, and PORT=0 gives no canonical URI to derive it from.
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      OAUTH_AUDIENCE: 'mcp-server',
      CLOCK_TOLERANCE_SECONDS: '0',
      SHUTDOWN_GRACE_MS: '200',
      ...env,
    },
  });
  return {
    ...started,
    stats: () => call<ChildStats>('stats'),
    async stop() {
      await call('stop').catch(() => undefined);
      await exited;
    },
  };
}
