/**
 * Child process running the real mcp-server (`startServer`). Logs go to this process's stdout,
 * which the parent points at /dev/null: the server pays for its audit log as in production.
 * Commands: `start(env)`, `memory()`, `profileStart()`, `profileStop(file)`. Run with
 * `--expose-gc` so `memory()` can collect first. The threadpool is sized as the entry point
 * (mcp-server/src/main.ts) sizes it in production. `BENCH_SERVER_ROOT` (a checkout of this repository,
 * for bench/ab.ts) serves another version of the server; default this one.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import type * as ServerModule from '../mcp-server/src/index.ts';
import type { ServerHandle } from '../mcp-server/src/index.ts';
import { serveCommands } from './child.ts';

const sourceRoot = process.env.BENCH_SERVER_ROOT;
const src = (file: string) =>
  sourceRoot === undefined
    ? new URL(`../mcp-server/src/${file}`, import.meta.url).href
    : pathToFileURL(`${sourceRoot}/mcp-server/src/${file}`).href;
await import(src('threadpool.ts'));
const { loadConfig, startServer } = (await import(src('index.ts'))) as typeof ServerModule;

/** What `start` answers. */
export interface StartedServer {
  readonly wsUrl: string;
  readonly url: string;
  /** The server's own Streamable HTTP endpoint, when it has one. */
  readonly httpUrl?: string;
  readonly pid: number;
}

let server: ServerHandle | undefined;
let inspector: Session | undefined;

serveCommands(
  {
    async start(env: Record<string, string>): Promise<StartedServer> {
      server = await startServer(loadConfig(env));
      await server.ready;
      const { httpUrl } = server as ServerHandle & { httpUrl?: string };
      return { wsUrl: server.wsUrl, url: server.url, pid: process.pid, ...(httpUrl ? { httpUrl } : {}) };
    },
    /** CPU time this process has used so far (user + system), in µs. */
    cpu(): number {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
    /** Collects garbage (when exposed) and answers `process.memoryUsage()`, in bytes (the rows read rss and heapUsed). */
    memory(): NodeJS.MemoryUsage {
      globalThis.gc?.();
      return process.memoryUsage();
    },
    async profileStart(): Promise<void> {
      inspector = new Session();
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
      await inspector.post('Profiler.start');
    },
    async profileStop(file: string): Promise<string> {
      if (!inspector) throw new Error('profileStart was not called');
      const { profile } = await inspector.post('Profiler.stop');
      inspector.disconnect();
      inspector = undefined;
      await writeFile(file, JSON.stringify(profile));
      return file;
    },
  },
  async () => {
    await server?.close();
  },
);
