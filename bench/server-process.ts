/**
 * Child process running the real mcp-server (`startServer`). Logs go to this process's stdout,
 * which the parent points at /dev/null: the server pays for its audit log as in production.
 * Commands: `start(env)`, `memory()`, `profileStart()`, `profileStop(file)`. Run with
 * `--expose-gc` so `memory()` can collect first. The threadpool is sized as the entry point
 * (mcp-server/src/main.ts) sizes it in production.
 */
import '../mcp-server/src/threadpool.ts';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadConfig, type ServerHandle, startServer } from '../mcp-server/src/index.ts';
import { serveCommands } from './child.ts';

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
    /** Collects garbage (when exposed) and answers RSS and heap in use, in bytes. */
    memory(): { rss: number; heapUsed: number } {
      globalThis.gc?.();
      const { rss, heapUsed } = process.memoryUsage();
      return { rss, heapUsed };
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
