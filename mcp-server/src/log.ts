import { type Logger, pino } from 'pino';
import { batchedStdout } from './log-destination.ts';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level. Default info. */
  level?: string;
  /** Where JSON lines go. Default stdout, written once per event-loop turn (see log-destination.ts). */
  destination?: NodeJS.WritableStream;
}

/** Paths that may carry credentials; pino replaces them with "[redacted]". */
const REDACT = [
  'token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'authInfo.token',
  '*.token',
  '*.authorization',
];

/**
 * Creates the JSON logger. Tokens and authorization headers are redacted; callers must still
 * never pass tokens or file contents.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'mcp-server' },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    (options.destination ?? batchedStdout()) as pino.DestinationStream,
  );
}

export type { Logger };
