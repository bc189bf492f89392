/**
 * WebSocket close codes used by the MCP server, and what a client should do on each.
 * 1000-1015 are RFC 6455; 4000-4999 are private use, chosen to mirror HTTP statuses.
 */
export const CloseCode = {
  /** Normal closure (client or server finished). */
  NORMAL: 1000,
  /** Server shutting down or restarting: reconnect with backoff. */
  GOING_AWAY: 1001,
  /** A binary frame was sent: MCP messages travel only in text frames. */
  UNSUPPORTED_DATA: 1003,
  /** The peer broke the transport's rules (e.g. unresponsive to pings). */
  POLICY_VIOLATION: 1008,
  /** A frame exceeded the server's `MAX_MESSAGE_BYTES`. */
  MESSAGE_TOO_BIG: 1009,
  /** Unexpected server error. */
  INTERNAL_ERROR: 1011,
  /** Server over capacity: reconnect later. */
  TRY_AGAIN_LATER: 1013,
  /** The access token expired (`exp` reached): get a fresh token and reconnect. */
  TOKEN_EXPIRED: 4401,
  /**
   * The authorization server no longer considers the access token active (revoked, client disabled,
   * not-before pushed, signing key removed): fetch a new token once and reconnect; if the
   * authorization server refuses, stop (access was withdrawn).
   */
  TOKEN_REVOKED: 4403,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Close codes after which reconnecting is the right move (with a fresh token for TOKEN_EXPIRED and
 * TOKEN_REVOKED; after TOKEN_REVOKED only once: a refused fresh token means access was withdrawn).
 */
export const RECONNECTABLE_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.GOING_AWAY,
  CloseCode.INTERNAL_ERROR,
  CloseCode.TRY_AGAIN_LATER,
  CloseCode.TOKEN_EXPIRED,
  CloseCode.TOKEN_REVOKED,
  1006, // abnormal closure: no close frame (server crashed or network dropped)
]);
