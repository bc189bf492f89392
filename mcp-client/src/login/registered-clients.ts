import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientError } from '../errors.ts';
import type { RegisteredClient } from './client-registration.ts';

/** A client dynamic registration (RFC 7591) created at one issuer, kept for the next sign-ins there. */
export interface StoredRegistration extends RegisteredClient {
  /** The authorization server that registered it; it is never shown to another one (SEP-2352). */
  readonly issuer: string;
  /** The `scope` it was registered with (space-separated; empty: none asked). */
  readonly scope: string;
  /** When its secret expires, in ms since the epoch (RFC 7591 `client_secret_expires_at`); absent: never. */
  readonly secretExpiresAt?: number | undefined;
}

/**
 * Dynamically registered clients in `<configDir>/clients/`, one JSON file per issuer, the directory
 * mode 0700 and each file 0600, so each command does not register a client again (an authorization
 * server limits how many anonymous registrations it keeps: Keycloak's "Max Clients" policy, 200).
 * A file that others may read is refused, as the token store does.
 */
export class RegisteredClientStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The file of one issuer. */
  pathOf(issuer: string): string {
    return join(this.dir, `${createHash('sha256').update(issuer).digest('hex').slice(0, 32)}.json`);
  }

  /** Saves (replaces) the registration of `registration.issuer`. */
  save(registration: StoredRegistration): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const path = this.pathOf(registration.issuer);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(registration)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  }

  /** Forgets the client registered at `issuer`. */
  forget(issuer: string): void {
    rmSync(this.pathOf(issuer), { force: true });
  }

  /**
   * The client registered at `issuer`, if any.
   * @throws ClientError `untrusted` when its file is readable by group or others.
   */
  find(issuer: string): StoredRegistration | undefined {
    const path = this.pathOf(issuer);
    let text: string;
    try {
      const mode = statSync(path).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new ClientError(
          'untrusted',
          `refusing to use the client registration stored in ${path}: other users may read it (mode ${mode.toString(8)}); run chmod 600 ${path}`,
        );
      }
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (err instanceof ClientError) throw err;
      return undefined;
    }
    try {
      const stored = JSON.parse(text) as StoredRegistration;
      return stored.issuer === issuer && typeof stored.clientId === 'string' && typeof stored.scope === 'string'
        ? stored
        : undefined;
    } catch {
      return undefined;
    }
  }
}
