import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { requestBearerToken } from '../auth/authorization-header.ts';
import { type ChallengeContext, challengeFor, type HttpRefusal } from '../auth/bearer-challenge.ts';
import { acceptVerified, authenticateToken, hasTokenInQuery } from '../auth/request-auth.ts';
import { isServerError, ServerError, type ServerErrorCode } from '../errors.ts';
import { forbiddenError, hostChecker, isOriginAllowed } from '../http/origin-policy.ts';
import type { Logger } from '../log.ts';
import type { BudgetLimits } from './budget.ts';
import { ClientLedger, isLedgerRefusal, type Lease } from './client-ledger.ts';

/** The transport a request arrived on, as the audit log names it. */
export type TransportName = 'websocket' | 'http';

/** A refusal: the HTTP answer plus the machine-readable reason the audit log records. */
export interface Refusal extends HttpRefusal {
  readonly reason: string;
  /** Why, for the log only (never sent). */
  readonly detail?: string;
  /** More audit fields (e.g. the refused `origin`). */
  readonly fields?: Record<string, unknown>;
}

/** Options of {@link createAdmission}. */
export interface AdmissionOptions {
  /** Verifies a bearer token; may wait for readiness. @throws ServerError */
  verify(token: string): Promise<AuthInfo>;
  /** The verdict `verify` would answer at once (remembered), else undefined. Default none. @throws ServerError */
  remembered?(token: string): AuthInfo | undefined;
  /** Scopes every connection and request needs (OAUTH_REQUIRED_SCOPES). */
  requiredScopes: readonly string[];
  /** Longest bearer token in bytes. */
  maxTokenBytes: number;
  /** Time authentication may take before the request is refused with 503, in ms (HANDSHAKE_TIMEOUT_MS). */
  authTimeoutMs: number;
  /** Browser origins allowed (ALLOWED_ORIGINS). */
  allowedOrigins: readonly string[];
  /** Accepted `Host` values (ALLOWED_HOSTS); empty: not checked. */
  allowedHosts: readonly string[];
  /** WebSocket connections plus HTTP sessions allowed at once (MAX_CONNECTIONS). */
  maxConnections: number;
  /** Connections plus sessions per client `azp` (MAX_CONNECTIONS_PER_CLIENT). */
  maxConnectionsPerClient: number;
  /** Each client's budget across its connections (MAX_IN_FLIGHT_PER_CLIENT, MAX_CLIENT_BUFFERED_BYTES). */
  clientBudget: BudgetLimits;
  /** Where challenges point clients (filled in once the port is known). */
  challenge: ChallengeContext;
  logger: Logger;
  /** Told of every audited refusal (metrics); must not throw. Default none. */
  onRefusal?(event: RefusalEvent, reason: string, transport: TransportName): void;
}

/** The audit event of a refusal: the credential is the cause, or policy and capacity. */
export type RefusalEvent = 'auth.refused' | 'access.denied';

/** The outcome of authentication: who, or the refusal to answer with. */
export type Authenticated =
  | { readonly ok: true; readonly authInfo: AuthInfo }
  | { readonly ok: false; readonly refusal: Refusal };

/**
 * Admission of WebSocket upgrades and Streamable HTTP requests, one set of rules for both:
 * `Host` and `Origin` policy, tokens in the query string, bearer authentication bounded in time,
 * shutdown, and connection caps counted across transports (a WebSocket connection and an HTTP
 * session each hold one slot of MAX_CONNECTIONS and one of the client's MAX_CONNECTIONS_PER_CLIENT).
 * Every refusal carries its HTTP status, headers and body, and {@link Admission.audit} writes its
 * audit event; the transports only put it on the wire.
 */
export interface Admission {
  /** Checks that need only the request line and headers: Host (403), Origin (403), token in the query (400). */
  screen(req: IncomingMessage): Refusal | undefined;
  /** Refuses early when no slot can be given (shutdown or MAX_CONNECTIONS), before paying for verification. */
  checkOpen(): Refusal | undefined;
  /** Verifies the bearer token within `authTimeoutMs` (503 `keys_unavailable` when it takes longer). */
  authenticate(req: IncomingMessage): Promise<Authenticated>;
  /**
   * Verifies a token presented in-band (WebSocket renewal) with exactly the checks of
   * {@link Admission.authenticate}, within the same time bound. @throws ServerError
   */
  verifyToken(token: string): Promise<AuthInfo>;
  /** Takes a connection slot for the token's client: shutdown (503), MAX_CONNECTIONS (503), per client (429). */
  admit(authInfo: AuthInfo): Lease | Refusal;
  /**
   * The client's budget for one stateless 2026-07-28 HTTP request (no slot: it holds no session);
   * 503 during shutdown. Release it when the response closes.
   */
  borrow(authInfo: AuthInfo): Lease | Refusal;
  /**
   * Writes the audit event of a refusal: `auth.refused` when the credential is the cause (401, and
   * 400 `invalid_request` for a token in the query or a malformed credential), `access.denied` for
   * policy (403, 429, 503).
   */
  audit(refusal: Refusal, transport: TransportName, fields: Record<string, unknown>): void;
  /** Refuses every further slot with 503 (shutdown). */
  stopAccepting(): void;
  /** The refusal (status, challenge, audit reason) for an authorization error found after admission. */
  refusalFor(err: ServerError): Refusal;
  /** Slots held now, both transports. */
  readonly connections: number;
}

// Refusals caused by the credential itself, whatever their status (400 invalid_request or 401).
const CREDENTIAL_REASONS: ReadonlySet<string> = new Set<ServerErrorCode>([
  'token_missing',
  'token_in_query',
  'token_malformed',
  'token_invalid',
  'token_expired',
]);

/** Seconds a client refused for capacity is told to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/** A refusal with a `{ error, error_description }` JSON body. */
export function plainRefusal(
  status: number,
  reason: string,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): Refusal {
  return {
    status,
    reason,
    headers: { 'content-type': 'application/json', ...headers },
    body: { error, error_description: description },
  };
}

function shuttingDown(): Refusal {
  return plainRefusal(503, 'shutting_down', 'shutting_down', 'the server is shutting down');
}

function overCapacity(): Refusal {
  return plainRefusal(503, 'over_capacity', 'over_capacity', 'too many connections; retry later', {
    'retry-after': String(RETRY_AFTER_SECONDS),
  });
}

function fromServerError(err: ServerError, challenge: ChallengeContext): Refusal {
  return { ...challengeFor(err, challenge), reason: err.code, detail: err.message };
}

/** Creates the admission shared by the WebSocket upgrade handler and the Streamable HTTP handler. */
export function createAdmission(options: AdmissionOptions): Admission {
  const ledger = new ClientLedger({
    maxConnections: options.maxConnections,
    maxConnectionsPerClient: options.maxConnectionsPerClient,
    clientBudget: options.clientBudget,
  });
  let accepting = true;
  const hostAllowed = hostChecker(options.allowedHosts);

  async function verifyWithin(check: Promise<AuthInfo>): Promise<AuthInfo> {
    let timer: NodeJS.Timeout | undefined;
    // A verification that hangs (JWKS endpoint stalled) must not hold the request forever.
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new ServerError('keys_unavailable', 'authentication timed out')),
        options.authTimeoutMs,
      );
    });
    try {
      return await Promise.race([check, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Every check of a presented token (request-auth.ts): at once for a verdict the verifier
   * remembers (the common case: an HTTP client sends the same token on every request), otherwise
   * verified within authTimeoutMs.
   */
  function checkToken(token: string): AuthInfo | Promise<AuthInfo> {
    const known = options.remembered?.(token);
    if (known !== undefined) return acceptVerified(known, options.requiredScopes);
    return verifyWithin(authenticateToken(token, options));
  }

  return {
    get connections() {
      return ledger.total;
    },
    screen(req) {
      if (!hostAllowed(req.headers.host)) {
        return {
          status: 403,
          reason: 'host_forbidden',
          headers: { 'content-type': 'application/json' },
          body: forbiddenError('host'),
        };
      }
      if (!isOriginAllowed(req.headers.origin, options.allowedOrigins)) {
        return {
          status: 403,
          reason: 'origin_forbidden',
          fields: { origin: String(req.headers.origin).slice(0, 200) },
          headers: { 'content-type': 'application/json' },
          body: forbiddenError('origin'),
        };
      }
      // A target without '?' has no query to parse (the common case, asked on every request).
      const target = req.url ?? '/';
      if (target.includes('?') && hasTokenInQuery(URL.parse(target, 'http://localhost'))) {
        const err = new ServerError('token_in_query', 'tokens are accepted only in the Authorization header');
        return fromServerError(err, options.challenge);
      }
      return undefined;
    },
    checkOpen() {
      if (!accepting) return shuttingDown();
      return ledger.full ? overCapacity() : undefined;
    },
    async authenticate(req) {
      try {
        return { ok: true, authInfo: await checkToken(requestBearerToken(req, options.maxTokenBytes)) };
      } catch (err) {
        const coded = isServerError(err) ? err : new ServerError('token_invalid', 'the token could not be verified');
        return { ok: false, refusal: fromServerError(coded, options.challenge) };
      }
    },
    async verifyToken(token) {
      if (Buffer.byteLength(token) > options.maxTokenBytes) {
        throw new ServerError('token_invalid', `the token is longer than ${options.maxTokenBytes} bytes`);
      }
      return checkToken(token);
    },
    admit(authInfo) {
      if (!accepting) return shuttingDown();
      const lease = ledger.admit(authInfo.clientId);
      if (!isLedgerRefusal(lease)) return lease;
      if (lease.reason === 'over_capacity') return overCapacity();
      return plainRefusal(
        429,
        'client_over_capacity',
        'too_many_connections',
        `client ${authInfo.clientId} holds ${lease.held} connections or sessions; close some first`,
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    },
    borrow(authInfo) {
      return accepting ? ledger.borrow(authInfo.clientId) : shuttingDown();
    },
    audit(refusal, transport, fields) {
      const credential = refusal.status === 401 || CREDENTIAL_REASONS.has(refusal.reason);
      const event: RefusalEvent = credential ? 'auth.refused' : 'access.denied';
      options.onRefusal?.(event, refusal.reason, transport);
      options.logger.warn({
        event,
        reason: refusal.reason,
        status: refusal.status,
        transport,
        ...(refusal.detail === undefined ? {} : { detail: refusal.detail }),
        ...refusal.fields,
        ...fields,
      });
    },
    stopAccepting() {
      accepting = false;
    },
    refusalFor(err) {
      return fromServerError(err, options.challenge);
    },
  };
}

/** True when `x` is a {@link Refusal} rather than a lease. */
export function isRefusal(x: Lease | Refusal): x is Refusal {
  return 'status' in x;
}
