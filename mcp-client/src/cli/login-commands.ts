import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { storedLoginFor } from '../auth/from-config.ts';
import type { TokenSource } from '../auth/token-source.ts';
import { requireSecureTransport } from '../auth/trust.ts';
import type { ClientConfig } from '../config.ts';
import { ClientError } from '../errors.ts';
import { findLoginTarget, publicClientConfiguration } from '../login/authorization-server.ts';
import {
  forgetKeptClient,
  type LoginClient,
  type ResolvedClient,
  resolveLoginClient,
} from '../login/client-registration.ts';
import { logout as endSignIn, LoginTokenSource } from '../login/login-token-source.ts';
import { RegisteredClientStore } from '../login/registered-clients.ts';
import { unionScopes } from '../login/scope-selection.ts';
import { type SignInPrompt, signInWithBrowser, signInWithDevice } from '../login/sign-in.ts';
import { SignInTokenSource } from '../login/sign-in-token-source.ts';
import { configDir, TokenStore } from '../login/token-store.ts';
import { isHttpUrl } from '../transport/http-client-transport.ts';
import type { Invocation } from './args.ts';
import type { Io } from './commands.ts';

/** Default public clients of the realm (keycloak/realm-export.json). */
export const DEFAULT_LOGIN_CLIENT = 'mcp-cli';
export const DEFAULT_DEVICE_CLIENT = 'mcp-cli-device';
/** How long `login` waits for the person by default, in seconds. */
const SIGN_IN_TIMEOUT_SECONDS = 300;

/** What `login` and `logout` need. */
export interface LoginContext {
  readonly inv: Invocation;
  readonly config: ClientConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly io: Io;
}

/** The token store of the user whose environment is `env`. */
export function tokenStoreFor(env: NodeJS.ProcessEnv): TokenStore {
  return new TokenStore(join(configDir(env), 'logins'));
}

/** The clients registered dynamically by the user whose environment is `env`, per issuer. */
export function registeredClientStoreFor(env: NodeJS.ProcessEnv): RegisteredClientStore {
  return new RegisteredClientStore(join(configDir(env), 'clients'));
}

/**
 * The client a sign-in uses: `--client-id` (registered beforehand; `auto`: none), the client ID
 * metadata document of `--client-metadata-url` or dynamic registration when there is none, else
 * this realm's public client (`mcp-cli`, with `--device` `mcp-cli-device`).
 * @throws ClientError `config` for a metadata URL that is not https, or `--device` without a registered client.
 */
export function loginClientOf(inv: Invocation): LoginClient {
  const id = inv.overrides.clientId;
  const url = inv.clientMetadataUrl;
  if (url !== undefined && !/^https:\/\/[^/]+\/./.test(url)) {
    throw new ClientError('config', `--client-metadata-url must be an https URL with a path, got "${url}"`);
  }
  if (id === 'auto' || (id === undefined && url !== undefined)) {
    if (inv.device) throw new ClientError('config', '--device needs a registered client: pass --client-id');
    return { kind: 'auto', metadataUrl: url };
  }
  return { kind: 'pre-registered', clientId: id ?? (inv.device ? DEFAULT_DEVICE_CLIENT : DEFAULT_LOGIN_CLIENT) };
}

/** `login [--device] [--no-browser]`: signs a person in and stores the tokens. */
export async function login(ctx: LoginContext): Promise<void> {
  const { inv, config, io } = ctx;
  const target = await findLoginTarget(config);
  const client = loginClientOf(inv);
  const common = {
    target,
    scope: config.scope,
    timeoutMs: (inv.timeout ?? SIGN_IN_TIMEOUT_SECONDS) * 1000,
    show: (prompt: SignInPrompt) => showPrompt(prompt, inv.noBrowser, io),
  };
  const registrations = registeredClientStoreFor(ctx.env);
  let used: ResolvedClient | undefined;
  const signedIn =
    client.kind === 'pre-registered' && inv.device
      ? await signInWithDevice({
          ...common,
          config: await publicClientConfiguration(target.issuer, client.clientId, config.insecureHosts),
        })
      : await signInWithBrowser({
          ...common,
          client: async (redirectUri) => {
            used = await resolveLoginClient(target.issuer, client, redirectUri, config.insecureHosts, {
              scope: unionScopes(config.scope, target.scopesSupported?.join(' ')),
              store: registrations,
            });
            return used;
          },
        }).catch((err: unknown) => {
          throw forgetKeptClient(used, target.issuer, registrations, err);
        });
  tokenStoreFor(ctx.env).save(signedIn);
  const granted = signedIn.scope.split(' ').filter(Boolean);
  // Only scopes the server names can be judged missing: others (an audience scope) never appear in `scope`.
  const judged = config.scope.split(' ').filter((s) => s !== '' && (target.scopesSupported?.includes(s) ?? true));
  const missing = judged.filter((s) => !granted.includes(s));
  const summary = {
    user: signedIn.username,
    issuer: signedIn.issuer,
    resource: signedIn.resource,
    clientId: signedIn.clientId,
    scopes: granted,
    notGranted: missing,
  };
  if (inv.json) {
    io.out(JSON.stringify(summary, null, 2));
  } else {
    io.out(`Signed in as ${signedIn.username ?? '?'} at ${signedIn.issuer} for ${signedIn.resource}`);
    io.out(`Scopes: ${granted.join(' ') || '(none)'}`);
    if (missing.length > 0) {
      io.out(`Not granted: ${missing.join(' ')} (your account does not have them; ask an administrator)`);
    }
  }
  if (config.clientSecret !== undefined || config.clientSecretFile !== undefined || config.accessToken !== undefined) {
    io.err('# note: a client secret or OAUTH_ACCESS_TOKEN is set, and commands use it rather than this sign-in');
  }
}

/**
 * The token source of a command run with `--login`: the stored sign-in, and a browser sign-in
 * whenever the server asks for one (see {@link SignInTokenSource}).
 * @throws ClientError `config` when a client secret or OAUTH_ACCESS_TOKEN is set too.
 */
export function signInTokenSource(ctx: LoginContext): SignInTokenSource {
  const { inv, config, io } = ctx;
  if (config.clientSecret !== undefined || config.clientSecretFile !== undefined || config.accessToken !== undefined) {
    throw new ClientError(
      'config',
      '--login signs you in as a person, but a client secret or OAUTH_ACCESS_TOKEN is set: unset it, or drop --login',
    );
  }
  requireSecureTransport(config.serverUrl, 'the access token', config.insecureHosts);
  const store = tokenStoreFor(ctx.env);
  return new SignInTokenSource({
    config,
    store,
    login: storedLoginFor(config, store),
    client: loginClientOf(inv),
    registrations: registeredClientStoreFor(ctx.env),
    scope: inv.overrides.scope ?? ctx.env.OAUTH_SCOPE,
    timeoutMs: (inv.timeout ?? SIGN_IN_TIMEOUT_SECONDS) * 1000,
    show: (prompt) => showPrompt(prompt, inv.noBrowser, io),
    awaitChallenge: isHttpUrl(config.serverUrl),
  });
}

/** `logout`: revokes and forgets the sign-in for the configured server. */
export async function logout(ctx: LoginContext): Promise<void> {
  const store = tokenStoreFor(ctx.env);
  const signedIn = storedLoginFor(ctx.config, store);
  if (signedIn === undefined) {
    ctx.io.out(`Not signed in for ${ctx.config.resource ?? ctx.config.serverUrl}`);
    return;
  }
  const revoked = await endSignIn(store, signedIn, ctx.config.insecureHosts);
  ctx.io.out(
    revoked
      ? `Signed out ${signedIn.username ?? ''}: the tokens were revoked at ${signedIn.issuer} and forgotten`
      : `Signed out ${signedIn.username ?? ''}: the tokens were forgotten, but ${signedIn.issuer} did not confirm ` +
          'their revocation (they stay valid until they expire)',
  );
}

/**
 * For a person, a missing scope means signing in again asking for it too (the union of what the
 * sign-in asked for, what it got and what the server needs), not changing a client in Keycloak.
 */
export function personalizeScopeError(err: unknown, tokenSource: TokenSource | undefined): unknown {
  if (!(err instanceof ClientError) || err.code !== 'insufficient_scope') return err;
  if (!(tokenSource instanceof LoginTokenSource || tokenSource instanceof SignInTokenSource)) return err;
  const signedIn = tokenSource.login;
  if (signedIn === undefined) return err;
  const needed = err.scope ?? '';
  const union = [
    ...new Set([...signedIn.requestedScope.split(' '), ...signedIn.scope.split(' '), ...needed.split(' ')]),
  ].filter(Boolean);
  return new ClientError(
    'insufficient_scope',
    `the server needs scope ${needed || '(unnamed)'}, which your sign-in as ${signedIn.username ?? '?'} lacks ` +
      `(it has: ${signedIn.scope || 'none'}). Sign in again asking for it: mcp-client login --scope "${union.join(' ')}". ` +
      'If Keycloak still leaves it out, your account may not have it: ask to be added to the group that grants it.',
    { ...(err.status ? { status: err.status } : {}), scope: needed, oauthError: 'insufficient_scope', cause: err },
  );
}

function showPrompt(prompt: SignInPrompt, noBrowser: boolean, io: Io): void {
  if (prompt.kind === 'device') {
    io.err(`To sign in, open ${prompt.verificationUri} and enter the code ${prompt.userCode}`);
    if (prompt.verificationUriComplete) io.err(`(or open ${prompt.verificationUriComplete})`);
    io.err('Waiting for approval...');
    return;
  }
  io.err(`To sign in, open this URL in your browser:\n${prompt.url}`);
  if (noBrowser) return;
  if (io.openBrowser) io.openBrowser(prompt.url);
  else openBrowser(prompt.url);
}

/** Best effort: the platform's opener; when it is missing, the printed URL is the way. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener: the URL was printed.
  }
}
