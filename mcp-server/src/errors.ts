/**
 * The one error type of the MCP server. Each `code` is stable, so callers `switch (err.code)`;
 * the mapping to HTTP statuses, JSON-RPC errors or tool results happens only at the boundaries
 * (auth/bearer-challenge.ts, tools/fs-errors.ts).
 */
export type ServerErrorCode =
  // configuration
  | 'config_invalid'
  // authorization (upgrade request)
  | 'token_missing'
  | 'token_in_query'
  | 'token_malformed'
  | 'token_invalid'
  | 'token_expired'
  | 'insufficient_scope'
  | 'keys_unavailable'
  | 'token_revoked'
  | 'introspection_unavailable'
  | 'discovery_failed'
  // file tools
  | 'path_invalid'
  | 'path_outside_root'
  | 'not_found'
  | 'not_a_file'
  | 'not_a_directory'
  | 'symlink_refused'
  | 'special_file'
  | 'access_denied'
  | 'file_too_large'
  | 'range_invalid'
  | 'cursor_invalid'
  | 'aborted'
  | 'io_failed'
  // a bug or an unexpected failure (500)
  | 'internal_error';

/** Options of {@link ServerError}. */
export interface ServerErrorOptions {
  /** The underlying error, kept for logs; never shown to a client. */
  cause?: unknown;
  /** Scopes involved (for `insufficient_scope`). */
  scopes?: readonly string[];
}

/** An error with a stable machine-readable `code`; `message` is safe to show to the peer. */
export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly scopes: readonly string[] | undefined;

  constructor(code: ServerErrorCode, message: string, options: ServerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServerError';
    this.code = code;
    this.scopes = options.scopes;
  }
}

/** True when `err` is a {@link ServerError}, optionally with one of the given codes. */
export function isServerError(err: unknown, ...codes: ServerErrorCode[]): err is ServerError {
  return err instanceof ServerError && (codes.length === 0 || codes.includes(err.code));
}
