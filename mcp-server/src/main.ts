#!/usr/bin/env node
// Wiring only: configuration from the environment, start, stop on SIGTERM/SIGINT.
// First: sizes the threadpool before anything can start it.
import './threadpool.ts';
import { loadConfig } from './config.ts';
import { isServerError } from './errors.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  console.error(isServerError(err) ? err.message : err);
  process.exit(1);
}

const logger = createLogger({ level: config.logLevel });
const server = await startServer(config, { logger });

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal: stop now
    stopping = true;
    logger.info({ event: 'shutdown', signal });
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ event: 'shutdown_failed', error: (err as Error).message });
        process.exit(1);
      },
    );
  });
}
