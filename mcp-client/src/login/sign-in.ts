import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { ClientError } from '../errors.ts';
import type { LoginTarget } from './authorization-server.ts';
import type { RegisteredClient, ResolvedClient } from './client-registration.ts';
import { listenForRedirect } from './loopback-redirect.ts';
import type { StoredLogin } from './token-store.ts';

/** What a sign-in needs besides the discovered authorization server. */
export interface SignInOptions {
  readonly target: LoginTarget;
  /** Space-separated scopes to ask for; undefined or empty: no `scope` parameter (the server's default). */
  readonly scope: string | undefined;
  /** How long to wait for the person, in ms. */
  readonly timeoutMs: number;
  /**
   * Shows the person where to go: the authorization URL (browser flow), or the verification URI
   * and user code (device flow). The CLI prints it and may open a browser.
   */
  readonly show: (prompt: SignInPrompt) => void;
}

/** A browser sign-in: the client is settled once the loopback redirect URI is known. */
export interface BrowserSignInOptions extends SignInOptions {
  /** The client for `redirectUri` (a dynamic registration registers that URI). */
  readonly client: (redirectUri: string) => Promise<ResolvedClient>;
}

/** A device sign-in, with its client. */
export interface DeviceSignInOptions extends SignInOptions {
  readonly config: oidc.Configuration;
}

/** What the person is asked to do. */
export type SignInPrompt =
  | { readonly kind: 'browser'; readonly url: string }
  | {
      readonly kind: 'device';
      readonly verificationUri: string;
      readonly verificationUriComplete: string | undefined;
      readonly userCode: string;
    };

/**
 * Authorization code + PKCE (S256) with an RFC 8252 loopback redirect. openid-client checks the
 * `state` and, when the metadata says `authorization_response_iss_parameter_supported` (Keycloak
 * does), that the response's RFC 9207 `iss` is the issuer, before the code is redeemed.
 * @throws ClientError `auth_refused` (the person or server refused, state or iss wrong), `timeout`.
 */
export async function signInWithBrowser(opts: BrowserSignInOptions): Promise<StoredLogin> {
  const redirect = await listenForRedirect(opts.timeoutMs);
  try {
    const { config, client } = await opts.client(redirect.redirectUri);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirect.redirectUri,
      response_type: 'code',
      ...(opts.scope ? { scope: opts.scope } : {}),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource: opts.target.resource,
    });
    opts.show({ kind: 'browser', url: url.href });
    const callback = await redirect.wait();
    const tokens = await oidc
      .authorizationCodeGrant(
        config,
        callback,
        { pkceCodeVerifier: verifier, expectedState: state },
        { resource: opts.target.resource },
      )
      .catch((err: unknown) => {
        throw refusal(err, 'the sign-in');
      });
    return loginFromTokens(opts.target, client, opts.scope ?? '', tokens, undefined);
  } finally {
    await redirect.close();
  }
}

/**
 * RFC 8628 device authorization: shows the verification URI and user code, then polls the token
 * endpoint at the interval the server sets (slowing down when told) until the person approves,
 * refuses, or the code expires.
 * @throws ClientError `auth_refused` (denied, expired), `timeout`.
 */
export async function signInWithDevice(opts: DeviceSignInOptions): Promise<StoredLogin> {
  const params = { ...(opts.scope ? { scope: opts.scope } : {}), resource: opts.target.resource };
  const device = await oidc.initiateDeviceAuthorization(opts.config, params).catch((err: unknown) => {
    throw refusal(err, 'the device authorization request');
  });
  opts.show({
    kind: 'device',
    verificationUri: device.verification_uri,
    verificationUriComplete: device.verification_uri_complete,
    userCode: device.user_code,
  });
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const tokens = await oidc
    .pollDeviceAuthorizationGrant(opts.config, device, { resource: opts.target.resource }, { signal })
    .catch((err: unknown) => {
      if (signal.aborted) {
        throw new ClientError('timeout', `the device sign-in was not approved within ${opts.timeoutMs / 1000} s`);
      }
      throw refusal(err, 'the device sign-in');
    });
  const client = { clientId: opts.config.clientMetadata().client_id };
  return loginFromTokens(opts.target, client, opts.scope ?? '', tokens, undefined);
}

/**
 * A token response as a {@link StoredLogin}. A refresh response without `refresh_token` keeps
 * `previousRefreshToken` (rotation is the server's choice; Keycloak rotates).
 */
export function loginFromTokens(
  target: Pick<LoginTarget, 'issuer' | 'resource'>,
  client: RegisteredClient,
  requestedScope: string,
  tokens: oidc.TokenEndpointResponse,
  previousRefreshToken: string | undefined,
): StoredLogin {
  let username: string | undefined;
  let exp: number | undefined;
  try {
    const claims = decodeJwt(tokens.access_token);
    username = typeof claims.preferred_username === 'string' ? claims.preferred_username : claims.sub;
    exp = claims.exp;
  } catch {
    // An opaque access token: rely on expires_in.
  }
  const expiresAt = typeof tokens.expires_in === 'number' ? Date.now() + tokens.expires_in * 1000 : (exp ?? 0) * 1000;
  return {
    issuer: target.issuer,
    resource: target.resource,
    clientId: client.clientId,
    ...(client.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
    ...(client.tokenEndpointAuthMethod === undefined
      ? {}
      : { tokenEndpointAuthMethod: client.tokenEndpointAuthMethod }),
    requestedScope,
    scope: tokens.scope ?? requestedScope,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? previousRefreshToken,
    expiresAt,
    username,
  };
}

/** An openid-client failure during sign-in as a ClientError naming what the server said. */
export function refusal(err: unknown, what: string): ClientError {
  if (err instanceof ClientError) return err;
  if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) {
    const desc = err.error_description ? `: ${err.error_description}` : '';
    return new ClientError('auth_refused', `${what} was refused (${err.error}${desc})`, {
      oauthError: err.error,
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  // openid-client's "unexpected HTTP response status code" keeps the Response as its cause
  const status = err instanceof Error && err.cause instanceof Response ? ` (HTTP ${err.cause.status})` : '';
  return new ClientError('auth_refused', `${what} failed: ${message}${status}`, { cause: err });
}
