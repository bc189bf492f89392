import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ClientError } from '../errors.ts';

/** What a sign-in leaves on disk: one file per issuer + resource. Tokens are never printed. */
export interface StoredLogin {
  /** The authorization server that issued the tokens (refreshes and revocations go only there). */
  readonly issuer: string;
  /** The MCP server's canonical URI the tokens are bound to (RFC 8707). */
  readonly resource: string;
  /** The client the person signed in with (e.g. `mcp-cli`, a CIMD URL, or one registered dynamically). */
  readonly clientId: string;
  /** The secret dynamic registration (RFC 7591) gave the client, if it gave one; never printed. */
  readonly clientSecret?: string | undefined;
  /** How the client authenticates at the token endpoint (RFC 7591 name); absent: `none` (public). */
  readonly tokenEndpointAuthMethod?: string | undefined;
  /** Scopes asked for at sign-in (space-separated). */
  readonly requestedScope: string;
  /** Scopes the authorization server granted (space-separated). */
  readonly scope: string;
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  /** When the access token expires, in ms since the epoch. */
  readonly expiresAt: number;
  /** `preferred_username` (or `sub`) of the person, for messages. */
  readonly username: string | undefined;
}

/**
 * The user's config directory for mcp-client: `$XDG_CONFIG_HOME/mcp-client`, else
 * `%APPDATA%\mcp-client` on Windows, `~/Library/Application Support/mcp-client` on macOS,
 * `~/.config/mcp-client` elsewhere.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'mcp-client');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'mcp-client');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'mcp-client');
  return join(homedir(), '.config', 'mcp-client');
}

/**
 * Sign-ins kept in `<configDir>/logins/`, one JSON file per issuer + resource, the directory mode
 * 0700 and each file 0600 (written to a temporary file, then renamed, so a reader never sees half
 * a file). A file that others may read is refused rather than used, as ssh does with keys.
 */
export class TokenStore {
  readonly dir: string;

  constructor(dir: string = join(configDir(), 'logins')) {
    this.dir = dir;
  }

  /** The file of one issuer + resource. */
  pathOf(issuer: string, resource: string): string {
    const id = createHash('sha256').update(`${issuer}\n${resource}`).digest('hex').slice(0, 32);
    return join(this.dir, `${id}.json`);
  }

  /** Saves (replaces) the sign-in of `login.issuer` + `login.resource`. */
  save(login: StoredLogin): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const path = this.pathOf(login.issuer, login.resource);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(login)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  }

  /**
   * The sign-ins for `resource`, optionally only the one from `issuer`.
   * @throws ClientError `untrusted` when a matching file is readable by group or others.
   */
  find(resource: string, issuer?: string): StoredLogin[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const found: StoredLogin[] = [];
    for (const name of names) {
      const login = this.#read(join(this.dir, name));
      if (login === undefined || login.resource !== resource) continue;
      if (issuer !== undefined && login.issuer !== issuer) continue;
      found.push(login);
    }
    return found;
  }

  /** Forgets the sign-in of issuer + resource; true when there was one. */
  remove(issuer: string, resource: string): boolean {
    const path = this.pathOf(issuer, resource);
    try {
      statSync(path);
    } catch {
      return false;
    }
    rmSync(path, { force: true });
    return true;
  }

  #read(path: string): StoredLogin | undefined {
    let text: string;
    try {
      const mode = statSync(path).mode & 0o777;
      text = readFileSync(path, 'utf8');
      if ((mode & 0o077) !== 0) {
        throw new ClientError(
          'untrusted',
          `refusing to use the sign-in stored in ${path}: other users may read it (mode ${mode.toString(8)}); ` +
            `run chmod 600 ${path}, or mcp-client logout and sign in again`,
        );
      }
    } catch (err) {
      if (err instanceof ClientError) throw err;
      return undefined;
    }
    try {
      const login = JSON.parse(text) as StoredLogin;
      return typeof login.issuer === 'string' && typeof login.accessToken === 'string' ? login : undefined;
    } catch {
      return undefined;
    }
  }
}
