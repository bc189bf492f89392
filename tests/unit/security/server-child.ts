// The real server in a child process, so a test can measure its RSS apart from the test's own
// memory. IPC: {cmd:'start', env} -> {port, wsUrl, httpUrl}; {cmd:'stats'} -> {rss, calls,
// closed} after a full GC (run with --expose-gc); {cmd:'stop'} closes and exits.
import '../../../mcp-server/src/threadpool.ts';
import { Writable } from 'node:stream';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../../mcp-server/src/index.ts';

type Command = { id: number; cmd: 'start'; env: Record<string, string> } | { id: number; cmd: 'stats' | 'stop' };

let server: ServerHandle | undefined;
/** tool.call events seen (calls that ran). */
let calls = 0;
/** connection.closed events of WebSockets, by reason. */
const closed: Record<string, number> = {};

const destination = new Writable({
  write(chunk, _enc, cb) {
    for (const line of String(chunk).split('\n')) {
      if (line.includes('"tool.call"')) calls++;
      else if (line.includes('"connection.closed"')) {
        const reason = (JSON.parse(line) as { reason?: string }).reason ?? 'unknown';
        closed[reason] = (closed[reason] ?? 0) + 1;
      }
    }
    cb();
  },
});

async function run(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'start': {
      server = await startServer(loadConfig(command.env), { logger: createLogger({ level: 'info', destination }) });
      await server.ready;
      return { port: server.port, wsUrl: server.wsUrl, httpUrl: server.httpUrl };
    }
    case 'stats':
      globalThis.gc?.();
      {
        const m = process.memoryUsage();
        return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, calls, closed };
      }
    case 'stop':
      await server?.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (command: Command) => {
  run(command).then(
    (value) => process.send?.({ id: command.id, ok: true, value }),
    (err: Error) => process.send?.({ id: command.id, ok: false, error: err.message }),
  );
});
