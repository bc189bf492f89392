import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { RenewalOutcome } from '../admission/renewal.ts';

/** The JSON-RPC method a client renews its connection's token with (docs/transport.md). */
export const RENEW_METHOD = 'auth/renew';

/** JSON-RPC error code of a refused renewal; `data` is `{ error, error_description }`. */
export const RENEWAL_REFUSED = -32040;

const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';

/** An `auth/renew` request as read from the wire. */
export interface RenewRequest {
  readonly id: string | number;
  readonly params?: { token?: unknown; _meta?: Record<string, unknown> } | undefined;
}

/**
 * The response to `auth/renew`: `{ expiresAt, scopes }` (plus `resultType: "complete"` when the
 * request carried the 2026-07-28 `_meta` envelope), or error -32040 with the refusal as `data`.
 */
export function renewalResponse(request: RenewRequest, outcome: RenewalOutcome): JSONRPCMessage {
  if (!outcome.ok) {
    return {
      jsonrpc: '2.0',
      id: request.id,
      error: {
        code: RENEWAL_REFUSED,
        message: `token renewal refused: ${outcome.refusal.error_description}`,
        data: { ...outcome.refusal },
      },
    };
  }
  const modern = typeof request.params?._meta?.[PROTOCOL_VERSION_KEY] === 'string';
  const { expiresAt, scopes } = outcome.authInfo;
  return {
    jsonrpc: '2.0',
    id: request.id,
    result: { expiresAt, scopes: [...scopes], ...(modern ? { resultType: 'complete' } : {}) },
  };
}
