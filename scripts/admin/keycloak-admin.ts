// Connects an Admin REST API client from the environment, like logging in to the admin console.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { AdminError, causeText, httpStatus } from './errors.ts';

/** How to reach Keycloak and log in as an admin (always against realm `master`). */
export interface AdminConnectionOptions {
  /** Keycloak base URL, without `/realms/...`. Default `http://localhost:8080` (env `KEYCLOAK_URL`). */
  url: string;
  /** Realm the operations act on. Default `mcp` (env `KEYCLOAK_REALM`). */
  realm: string;
  /**
   * Admin login. Client credentials when `KEYCLOAK_ADMIN_CLIENT_ID` is set (with
   * `KEYCLOAK_ADMIN_CLIENT_SECRET`), else username/password from `KEYCLOAK_ADMIN` /
   * `KEYCLOAK_ADMIN_PASSWORD`, default `admin`/`admin` as compose.yaml bootstraps it.
   */
  login:
    | { kind: 'client'; clientId: string; clientSecret: string }
    | { kind: 'password'; username: string; password: string };
  /** Per-request timeout in ms. Default 10000. */
  timeoutMs: number;
}

/** Flags every admin CLI accepts, for `parseArgs`. */
export const CONNECTION_FLAGS = {
  url: { type: 'string' },
  realm: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The `--help` paragraph on connection settings, shared by the CLIs. */
export const CONNECTION_HELP = `Connection (flags win over environment):
  --url URL        KEYCLOAK_URL, default http://localhost:8080
  --realm NAME     KEYCLOAK_REALM, default mcp
  Admin login against realm master, never taken from flags (they show up in ps):
    KEYCLOAK_ADMIN_CLIENT_ID + KEYCLOAK_ADMIN_CLIENT_SECRET   service account (client credentials), or
    KEYCLOAK_ADMIN + KEYCLOAK_ADMIN_PASSWORD                  user, default admin / admin`;

/**
 * Reads {@link AdminConnectionOptions} from flags and environment.
 * @throws TypeError when `KEYCLOAK_ADMIN_CLIENT_ID` is set without `KEYCLOAK_ADMIN_CLIENT_SECRET`.
 */
export function connectionOptions(
  flags: { url?: string | undefined; realm?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): AdminConnectionOptions {
  const url = (flags.url ?? env.KEYCLOAK_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
  const realm = flags.realm ?? env.KEYCLOAK_REALM ?? 'mcp';
  const clientId = env.KEYCLOAK_ADMIN_CLIENT_ID;
  let login: AdminConnectionOptions['login'];
  if (clientId) {
    const clientSecret = env.KEYCLOAK_ADMIN_CLIENT_SECRET;
    if (!clientSecret) throw new TypeError('KEYCLOAK_ADMIN_CLIENT_ID is set but KEYCLOAK_ADMIN_CLIENT_SECRET is not');
    login = { kind: 'client', clientId, clientSecret };
  } else {
    login = {
      kind: 'password',
      username: env.KEYCLOAK_ADMIN ?? 'admin',
      password: env.KEYCLOAK_ADMIN_PASSWORD ?? 'admin',
    };
  }
  return { url, realm, login, timeoutMs: 10_000 };
}

/** Who logged in, for the CLIs' first line (never includes a secret or password). */
export function describeLogin(options: AdminConnectionOptions): string {
  const who =
    options.login.kind === 'client' ? `service account ${options.login.clientId}` : `user ${options.login.username}`;
  return `${options.url} realm ${options.realm} as ${who}`;
}

/**
 * Logs in to realm `master` and returns a client bound to `options.realm`, after checking the realm exists.
 * @throws AdminError `unreachable`, `login_refused`, `forbidden` or `not_found` (the realm).
 */
export async function connectAdmin(options: AdminConnectionOptions): Promise<KcAdminClient> {
  const kc = new KcAdminClient({ baseUrl: options.url, realmName: 'master', timeout: options.timeoutMs });
  try {
    await kc.auth(
      options.login.kind === 'client'
        ? {
            grantType: 'client_credentials',
            clientId: options.login.clientId,
            clientSecret: options.login.clientSecret,
          }
        : {
            grantType: 'password',
            clientId: 'admin-cli',
            username: options.login.username,
            password: options.login.password,
          },
    );
  } catch (err) {
    const status = httpStatus(err);
    if (status === undefined) {
      throw new AdminError('unreachable', `Keycloak is unreachable at ${options.url}: ${causeText(err)}`, {
        cause: err,
      });
    }
    if (status === 400 || status === 401) {
      const how =
        options.login.kind === 'client'
          ? 'check KEYCLOAK_ADMIN_CLIENT_ID / KEYCLOAK_ADMIN_CLIENT_SECRET'
          : 'check KEYCLOAK_ADMIN / KEYCLOAK_ADMIN_PASSWORD';
      throw new AdminError(
        'login_refused',
        `admin login to realm master refused (${status} ${(err as Error).message}): ${how}`,
        { cause: err },
      );
    }
    if (status === 404) {
      throw new AdminError('unreachable', `no Keycloak realm master at ${options.url} (404): is KEYCLOAK_URL right?`, {
        cause: err,
      });
    }
    throw new AdminError('keycloak', `admin login failed: Keycloak answered ${status}`, { cause: err });
  }
  kc.setConfig({ realmName: options.realm });
  let found: unknown;
  try {
    found = await kc.realms.findOne({ realm: options.realm });
  } catch (err) {
    if (httpStatus(err) === 403) {
      throw new AdminError('forbidden', `the admin account may not manage realm ${options.realm} (403)`, {
        cause: err,
      });
    }
    throw err;
  }
  if (!found) throw new AdminError('not_found', `realm ${options.realm} not found at ${options.url}`);
  return kc;
}
