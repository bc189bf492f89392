import type { AuthInfo } from '@modelcontextprotocol/server';
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { ServerError } from '../errors.ts';
import { JwksCache, type JwksFetchEvent } from './jwks-cache.ts';
import { VerifiedTokens } from './verified-tokens.ts';

/** Asymmetric JWS algorithms only: `none` and HMAC (key confusion) are never accepted. */
export const ALLOWED_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** Exact expected `iss`. */
  issuer: string;
  /** What `aud` must contain: this value, or one of these (never empty: an empty list refuses every token). */
  audience: string | readonly string[];
  /** Where the signing keys are fetched. */
  jwksUrl: URL;
  /** Allowed clock skew in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** JWKS freshness in ms: older keys are refetched before use (a failed refetch keeps them). Default 600000. */
  cacheMaxAgeMs?: number;
  /** Minimum ms between refetches on an unknown `kid`, and between retries of a failed fetch. Default 30000. */
  cooldownMs?: number;
  /** How long past `cacheMaxAgeMs` keys that cannot be refetched stay in use, in ms. Default 300000. */
  maxStalenessMs?: number;
  /** Timeout of one JWKS fetch, in ms. Default 5000. */
  fetchTimeoutMs?: number;
  /** Told about every JWKS fetch (logging, tests). */
  onJwksFetch?: (event: JwksFetchEvent) => void;
  /** Verified tokens whose verdict is remembered (auth/verified-tokens.ts); 0 checks every token every time. Default 1024. */
  maxVerifiedTokens?: number;
}

/** Verifies bearer tokens; {@link TokenVerifier.keysLoaded} turns true once keys were loaded. */
export interface TokenVerifier {
  /**
   * Verifies signature, `iss`, `aud`, `exp`, `nbf` and returns the SDK's AuthInfo
   * (`expiresAt` in epoch seconds, `extra.sub`, `extra.aud`, `extra.user` = `preferred_username` when present).
   * @throws ServerError `token_invalid`, `token_expired` or `keys_unavailable`.
   */
  verify(token: string): Promise<AuthInfo>;
  /**
   * The verdict {@link TokenVerifier.verify} would answer at once from memory (a token it verified
   * with the key set still in use, while that set is fresh and before `exp`), else undefined.
   * Synchronous: the request path then waits for nothing.
   */
  remembered(token: string): AuthInfo | undefined;
  /** Fetches the JWKS once. @throws ServerError `keys_unavailable`. */
  loadKeys(): Promise<void>;
  /** True once a JWKS fetch succeeded. */
  readonly keysLoaded: boolean;
  /** The key cache (age, fetch count). */
  readonly jwks: JwksCache;
}

function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(/\s+/).filter((s) => s.length > 0);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return [];
}

/** `typ` values (payload claim, Keycloak style) of an access token; ID and refresh tokens differ. */
const ACCESS_TOKEN_TYPES = ['bearer', 'at+jwt', 'application/at+jwt'];
/**
 * JOSE header `typ` values accepted: exactly RFC 9068's (§4: resource servers MUST refuse any other),
 * which is what the realm's clients issue (`access.token.header.type.rfc9068`). A plain `JWT` may be
 * an ID or logout token of the same issuer and key.
 */
const HEADER_TYPES = ['at+jwt', 'application/at+jwt'];

/**
 * Refuses tokens that are not RFC 9068 access tokens: a header `typ` other than at+jwt (absent
 * included), or a `typ` claim (Keycloak: "Bearer", "ID", "Refresh", "Logout") other than Bearer/at+jwt.
 * @throws ServerError `token_invalid`
 */
export function checkTokenType(payload: JWTPayload, headerTyp: string | undefined): void {
  const claim = payload.typ;
  if (claim !== undefined && (typeof claim !== 'string' || !ACCESS_TOKEN_TYPES.includes(claim.toLowerCase()))) {
    throw new ServerError('token_invalid', 'the token is not an access token (typ claim)');
  }
  if (headerTyp === undefined || !HEADER_TYPES.includes(headerTyp.toLowerCase())) {
    throw new ServerError('token_invalid', 'the token is not an RFC 9068 access token (typ header must be at+jwt)');
  }
}

/** jose error codes that mean the signing keys themselves are unusable, not the token. */
const KEY_SET_CODES: ReadonlySet<string> = new Set([
  joseErrors.JWKSInvalid.code,
  joseErrors.JWKSTimeout.code,
  joseErrors.JWKInvalid.code,
]);

/**
 * Maps a verification failure to a coded error by jose's stable `code`, never by message text:
 * a bad token is `token_invalid` / `token_expired` (401); only an unusable key set is
 * `keys_unavailable` (503). The message never echoes the token.
 */
export function toServerError(err: unknown): ServerError {
  if (err instanceof ServerError) return err;
  if (!(err instanceof joseErrors.JOSEError)) {
    return new ServerError('internal_error', 'the token could not be checked', { cause: err });
  }
  switch (err.code) {
    case joseErrors.JWTExpired.code:
      return new ServerError('token_expired', 'the token has expired', { cause: err });
    case joseErrors.JWTClaimValidationFailed.code: {
      const { claim, reason } = err as joseErrors.JWTClaimValidationFailed;
      return new ServerError('token_invalid', `claim "${claim}" check failed: ${reason}`, { cause: err });
    }
    case joseErrors.JWKSNoMatchingKey.code:
      return new ServerError('token_invalid', 'no signing key matches the token', { cause: err });
    case joseErrors.JWKSMultipleMatchingKeys.code:
    case joseErrors.JWSSignatureVerificationFailed.code:
      return new ServerError('token_invalid', 'the token signature is invalid', { cause: err });
    case joseErrors.JOSEAlgNotAllowed.code:
      return new ServerError('token_invalid', 'the token algorithm is not allowed', { cause: err });
    case joseErrors.JOSENotSupported.code:
      return new ServerError('token_invalid', 'the token uses an unsupported algorithm or header', { cause: err });
    default:
      if (KEY_SET_CODES.has(err.code)) {
        return new ServerError('keys_unavailable', 'signing keys are unavailable', { cause: err });
      }
      // ERR_JWS_INVALID, ERR_JWT_INVALID and whatever jose adds later: the token is at fault.
      return new ServerError('token_invalid', 'the token is malformed or its signature is invalid', { cause: err });
  }
}

type VerifyOptions = Parameters<typeof jwtVerify>[2];

/**
 * jwtVerify against the cached key set. A token without `kid` matches every key of its `alg`;
 * during a rotation that is several, and jose hands them over as an iterable error: each is tried
 * (as jose documents), so the answer depends on the signature, not on how many keys are published.
 */
async function verifyWithKeySet(token: string, jwks: JwksCache, options: VerifyOptions) {
  try {
    return await jwtVerify(token, jwks.getKey, options);
  } catch (err) {
    if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        if (!(inner instanceof joseErrors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new joseErrors.JWSSignatureVerificationFailed();
  }
}

/** Creates a verifier backed by a {@link JwksCache} (stale-if-error, bounded refetches). */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const jwks = new JwksCache({
    url: options.jwksUrl,
    maxAgeMs: options.cacheMaxAgeMs ?? 600_000,
    cooldownMs: options.cooldownMs ?? 30_000,
    maxStalenessMs: options.maxStalenessMs ?? 300_000,
    timeoutMs: options.fetchTimeoutMs ?? 5000,
    onFetch: options.onJwksFetch,
  });
  let keysLoaded = false;
  const verified = new VerifiedTokens(options.maxVerifiedTokens);
  const remembered = (token: string) => (jwks.fresh ? verified.get(token, jwks.generation) : undefined);
  return {
    jwks,
    get keysLoaded() {
      return keysLoaded;
    },
    async loadKeys() {
      try {
        await jwks.reload();
        keysLoaded = true;
      } catch (err) {
        throw new ServerError('keys_unavailable', `could not load signing keys from ${options.jwksUrl.href}`, {
          cause: err,
        });
      }
    },
    remembered,
    async verify(token) {
      if (token.length === 0) throw new ServerError('token_missing', 'no bearer token');
      const known = remembered(token);
      if (known !== undefined) return known;
      // Taken before verifying: a set replaced meanwhile leaves the verdict unused (conservative).
      const keySet = jwks.generation;
      try {
        const { payload, protectedHeader } = await verifyWithKeySet(token, jwks, {
          issuer: options.issuer,
          audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
          algorithms: [...ALLOWED_ALGORITHMS],
          clockTolerance: options.clockToleranceSeconds ?? 5,
          requiredClaims: ['exp'],
        });
        keysLoaded = true;
        checkTokenType(payload, protectedHeader.typ);
        const clientId = payload.azp ?? payload.client_id;
        const authInfo: AuthInfo = {
          token,
          clientId: typeof clientId === 'string' ? clientId : '',
          scopes: scopesOf(payload),
          expiresAt: payload.exp,
          // preferred_username: a person's token names them in audit lines (`user`); absent for machines.
          extra: {
            sub: payload.sub,
            aud: payload.aud,
            ...(typeof payload.preferred_username === 'string' ? { user: payload.preferred_username } : {}),
          },
        };
        verified.set(authInfo, keySet);
        return authInfo;
      } catch (err) {
        throw toServerError(err);
      }
    },
  };
}
