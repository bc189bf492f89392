import { type Logger, pino } from 'pino';
import { batchedStdout } from './log-destination.ts';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level. Default info. */
  level?: string;
  /** Where JSON lines go. Default stdout, written once per event-loop turn (see log-destination.ts). */
  destination?: NodeJS.WritableStream;
}

const CENSOR = '[redacted]';
/** Keys that may carry credentials: at the top level, one level down, and in `req.headers`. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['token', 'authorization']);

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `fields` with its secret keys censored; the same object when it has none (the common case). */
function censorKeys(fields: Fields): Fields {
  let out = fields;
  for (const key of SECRET_KEYS) {
    if (!(key in fields)) continue;
    if (out === fields) out = { ...fields };
    out[key] = CENSOR;
  }
  return out;
}

/**
 * The line's fields with credentials replaced by "[redacted]": `token` and `authorization` at the
 * top level and inside any object one level down (`headers.authorization`, `authInfo.token`, ...),
 * and `req.headers.authorization`. Copies only what it censors; the caller's objects stay as
 * they were. (pino's own `redact` does the same by path, at a cost per line that was a tenth of
 * the server's CPU time per tool call; audit lines are flat and have nothing to censor.)
 */
export function censorSecrets(fields: Fields): Fields {
  let out = censorKeys(fields);
  for (const key in fields) {
    const value = fields[key];
    if (!isFields(value) || SECRET_KEYS.has(key)) continue;
    let inner = censorKeys(value);
    if (key === 'req' && isFields(value.headers)) {
      const headers = censorKeys(value.headers);
      if (headers !== value.headers) inner = { ...inner, headers };
    }
    if (inner === value) continue;
    if (out === fields) out = { ...fields };
    out[key] = inner;
  }
  return out;
}

/**
 * The same paths for pino's `redact`, without wildcards: it censors child bindings (which
 * {@link censorSecrets} never sees) and costs nothing on a line without these top-level keys.
 */
const BINDING_PATHS = [
  'token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'authInfo.token',
];

/**
 * Creates the JSON logger. Tokens and authorization headers are censored in lines
 * ({@link censorSecrets}) and child bindings; callers must still never pass tokens or file contents.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'mcp-server' },
      formatters: { log: censorSecrets },
      redact: { paths: BINDING_PATHS, censor: CENSOR },
    },
    (options.destination ?? batchedStdout()) as pino.DestinationStream,
  );
}

export type { Logger };
