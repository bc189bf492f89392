/**
 * What went wrong in an admin script, as a stable code:
 * - `unreachable`: no HTTP answer from Keycloak (wrong URL, not started, DNS, timeout).
 * - `login_refused`: the master realm refused the admin credentials.
 * - `forbidden`: logged in, but the admin account may not do this.
 * - `not_found`: the realm, client, client scope or key named does not exist.
 * - `conflict`: the request contradicts the current state (e.g. a scope linked as the other kind).
 * - `keycloak`: any other error answer from the Admin REST API.
 */
export type AdminErrorCode = 'unreachable' | 'login_refused' | 'forbidden' | 'not_found' | 'conflict' | 'keycloak';

/** The one error type of scripts/admin; the CLIs map it to a message and exit code 1. */
export class AdminError extends Error {
  readonly code: AdminErrorCode;

  constructor(code: AdminErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AdminError';
    this.code = code;
  }
}

/** HTTP status of a `NetworkError` thrown by @keycloak/keycloak-admin-client, if it is one. */
export function httpStatus(err: unknown): number | undefined {
  const response = (err as { response?: unknown } | null)?.response;
  return response instanceof Response ? response.status : undefined;
}

/**
 * Turns an Admin REST API failure into an {@link AdminError}, keeping the original as `cause`.
 * `what` names the attempted action for the message, e.g. `rotate the secret of mcp-client`.
 */
export function toAdminError(err: unknown, what: string): AdminError {
  if (err instanceof AdminError) return err;
  const status = httpStatus(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (status === undefined) {
    return new AdminError('unreachable', `cannot ${what}: Keycloak did not answer (${causeText(err)})`, { cause: err });
  }
  if (status === 401)
    return new AdminError('login_refused', `cannot ${what}: admin token refused (401)`, { cause: err });
  if (status === 403) {
    return new AdminError('forbidden', `cannot ${what}: the admin account lacks the permission (403)`, { cause: err });
  }
  if (status === 404) return new AdminError('not_found', `cannot ${what}: not found (404)`, { cause: err });
  if (status === 409) return new AdminError('conflict', `cannot ${what}: ${detail} (409)`, { cause: err });
  return new AdminError('keycloak', `cannot ${what}: Keycloak answered ${status}: ${detail}`, { cause: err });
}

/** The innermost useful message of a fetch failure ("fetch failed" hides ECONNREFUSED in `cause`). */
export function causeText(err: unknown): string {
  let e: unknown = err;
  const parts: string[] = [];
  while (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${e.message} [${code}]` : e.message);
    e = e.cause;
  }
  return parts.at(-1) ?? String(err);
}
