import type { TokenSource } from './token-source.ts';

/** A fixed access token (`OAUTH_ACCESS_TOKEN`): no token endpoint is contacted, nothing is renewed. */
export class StaticTokenSource implements TokenSource {
  readonly refreshable = false;
  readonly clientId: string | undefined;
  readonly #token: string;

  /** @param token the bearer token; @param clientId only for error messages. */
  constructor(token: string, clientId?: string) {
    if (token.length === 0) throw new TypeError('StaticTokenSource needs a non-empty token');
    this.#token = token;
    this.clientId = clientId;
  }

  /** Resolves to the token given at construction; `forceRefresh` cannot help and is ignored. */
  async getToken(): Promise<string> {
    return this.#token;
  }
}
