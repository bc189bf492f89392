import type { BearerChallenge } from 'mcp-ws-common';
import type { GetTokenOptions, TokenSource } from '../auth/token-source.ts';
import type { ClientConfig } from '../config.ts';
import { ClientError } from '../errors.ts';
import { findLoginTarget, type LoginTarget } from './authorization-server.ts';
import { forgetKeptClient, type LoginClient, type ResolvedClient, resolveLoginClient } from './client-registration.ts';
import { LoginTokenSource } from './login-token-source.ts';
import type { RegisteredClientStore } from './registered-clients.ts';
import { selectScope, stepUpScope, unionScopes } from './scope-selection.ts';
import { type SignInPrompt, signInWithBrowser } from './sign-in.ts';
import type { StoredLogin, TokenStore } from './token-store.ts';

/** Options of {@link SignInTokenSource}. */
export interface SignInTokenSourceOptions {
  /** Where the server is and which issuer and resource the settings name. */
  readonly config: Pick<ClientConfig, 'serverUrl' | 'resource' | 'issuer' | 'insecureHosts' | 'tokenRenewSkewSeconds'>;
  readonly store: TokenStore;
  /** The stored sign-in to start from, if any. */
  readonly login: StoredLogin | undefined;
  readonly client: LoginClient;
  /** Clients registered dynamically, per issuer, used again by later commands; absent: per process only. */
  readonly registrations?: RegisteredClientStore | undefined;
  /** Scopes the person asked for (`--scope`); undefined: chosen from the server's challenge and metadata. */
  readonly scope: string | undefined;
  /** How long to wait for the person at each sign-in, in ms. */
  readonly timeoutMs: number;
  /** Shows the person the authorization URL (and may open a browser). */
  readonly show: (prompt: SignInPrompt) => void;
  /**
   * True (Streamable HTTP): without a sign-in, send the first request without a token and sign in
   * when the server challenges it, with the challenge's scope. False (WebSocket): sign in first.
   */
  readonly awaitChallenge: boolean;
  /** Most sign-ins one source runs, the first included, so a server that keeps refusing cannot loop. Default 3. */
  readonly maxSignIns?: number | undefined;
}

/**
 * A person's tokens, signing in (authorization code + PKCE in the browser) when there are none,
 * when the server refuses them (401: its metadata is read again, so a server that moved to another
 * authorization server gets a sign-in there, with a client of that issuer; SEP-2352), and when a
 * call needs more scope (403 `insufficient_scope`: step-up with the union of the scopes asked for
 * before and the challenged ones). Between sign-ins it is a {@link LoginTokenSource}: the stored
 * access token, refreshed with the refresh token. Each sign-in is saved to the store at once.
 */
export class SignInTokenSource implements TokenSource {
  readonly refreshable = true;
  readonly stepsUp = true;
  readonly #opts: SignInTokenSourceOptions;
  /** Clients by issuer and registered scope: never used at another issuer. */
  readonly #clients = new Map<string, Promise<ResolvedClient>>();
  #current: LoginTokenSource | undefined;
  #signIns = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SignInTokenSourceOptions) {
    this.#opts = options;
    if (options.login !== undefined) this.#current = this.#sourceFor(options.login);
  }

  /** The client of the current sign-in, if any. */
  get clientId(): string | undefined {
    return this.#current?.clientId;
  }

  /** The current sign-in, if any (its tokens are never printed). */
  get login(): StoredLogin | undefined {
    return this.#current?.login;
  }

  getToken(options: GetTokenOptions = {}): Promise<string> {
    // One at a time: concurrent requests refused together need one sign-in, not several. The
    // token the caller had is noted now: if another call replaced it meanwhile, that one is the answer.
    const had = this.#current?.login.accessToken;
    const next = this.#queue.then(() => this.#token(options, had));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #token({ forceRefresh = false, challenge }: GetTokenOptions, had: string | undefined): Promise<string> {
    const current = this.#current;
    if (forceRefresh && current !== undefined && current.login.accessToken !== had) return current.login.accessToken;
    if (challenge?.error === 'insufficient_scope') return this.#stepUp(challenge);
    if (current === undefined) {
      if (!forceRefresh && this.#opts.awaitChallenge) return '';
      return this.#signIn(challenge, undefined);
    }
    if (!forceRefresh) return current.getToken();
    if (challenge !== undefined) {
      // Refused: the server may trust another authorization server now. Ask its metadata again.
      const target = await findLoginTarget(this.#opts.config, challenge.resource_metadata);
      if (target.issuer !== current.login.issuer) return this.#signIn(challenge, target);
    }
    try {
      return await current.getToken({ forceRefresh: true });
    } catch (err) {
      if (!(err instanceof ClientError) || err.code !== 'auth_refused') throw err;
      return this.#signIn(challenge, undefined);
    }
  }

  async #stepUp(challenge: BearerChallenge): Promise<string> {
    const login = this.#current?.login;
    const scope = stepUpScope(login?.requestedScope ?? '', challenge.scope);
    if (scope === undefined) {
      throw new ClientError(
        'insufficient_scope',
        `the server needs scope ${challenge.scope ?? '(unnamed)'}, which the sign-in asked for but was not granted`,
        {
          status: 403,
          challenge,
          oauthError: 'insufficient_scope',
          ...(challenge.scope ? { scope: challenge.scope } : {}),
        },
      );
    }
    return this.#signIn(challenge, undefined, scope);
  }

  async #signIn(
    challenge: BearerChallenge | undefined,
    known: LoginTarget | undefined,
    stepUp?: string,
  ): Promise<string> {
    const max = this.#opts.maxSignIns ?? 3;
    if (this.#signIns >= max) {
      throw new ClientError('auth_refused', `gave up after ${max} sign-ins: the server keeps refusing the tokens`);
    }
    this.#signIns++;
    const target = known ?? (await findLoginTarget(this.#opts.config, challenge?.resource_metadata));
    const previous = this.#current?.login;
    // A sign-in again (refused token, new issuer) keeps what the last one asked for (SEP-2350).
    const scope =
      stepUp ??
      unionScopes(
        previous?.requestedScope,
        selectScope({
          explicit: this.#opts.scope,
          challenged: challenge?.scope,
          scopesSupported: target.scopesSupported,
        }),
      );
    // A registered client names every scope this server supports, so a step-up can use it again.
    const registrationScope = unionScopes(scope, target.scopesSupported?.join(' '));
    let used: ResolvedClient | undefined;
    const login = await signInWithBrowser({
      target,
      scope,
      timeoutMs: this.#opts.timeoutMs,
      show: this.#opts.show,
      client: async (redirectUri) => {
        used = await this.#clientAt(target.issuer, redirectUri, registrationScope);
        return used;
      },
    }).catch((err: unknown) => {
      if (used?.kept === true) this.#clients.delete(`${target.issuer}\n${registrationScope ?? ''}`);
      throw forgetKeptClient(used, target.issuer, this.#opts.registrations, err);
    });
    // Credentials are per issuer (SEP-2352): a sign-in at another one replaces, not adds.
    if (previous !== undefined && previous.issuer !== login.issuer) {
      this.#opts.store.remove(previous.issuer, previous.resource);
    }
    this.#opts.store.save(login);
    this.#current = this.#sourceFor(login);
    return login.accessToken;
  }

  #clientAt(issuer: string, redirectUri: string, scope: string | undefined): Promise<ResolvedClient> {
    const key = `${issuer}\n${scope ?? ''}`;
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = resolveLoginClient(issuer, this.#opts.client, redirectUri, this.#opts.config.insecureHosts, {
        scope,
        store: this.#opts.registrations,
      });
      client.catch(() => this.#clients.delete(key));
      this.#clients.set(key, client);
    }
    return client;
  }

  #sourceFor(login: StoredLogin): LoginTokenSource {
    return new LoginTokenSource({
      store: this.#opts.store,
      login,
      insecureHosts: this.#opts.config.insecureHosts,
      renewSkewSeconds: this.#opts.config.tokenRenewSkewSeconds,
    });
  }
}
