// What the admin CLIs share: argument errors, exit codes, secret handling.
import { chmodSync, writeFileSync } from 'node:fs';
import { AdminError } from './errors.ts';

/** A mistake in the command line; printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Runs a CLI body and maps failures to exit codes: 0 done, 1 Keycloak refused or failed
 * ({@link AdminError}, message on stderr), 2 usage error. Unexpected errors print their stack, exit 1.
 */
export async function runCli(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof UsageError || err instanceof TypeError) {
      console.error(`${name}: ${err.message}\nTry: ${name} --help`);
      process.exitCode = 2;
    } else if (err instanceof AdminError) {
      console.error(`${name}: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(`${name}: unexpected error`, err);
      process.exitCode = 1;
    }
  }
}

/** A printable stand-in for a secret: its first 4 characters and its length, e.g. `AbCd… (32 chars)`. */
export function fingerprint(secret: string): string {
  return `${secret.slice(0, 4)}… (${secret.length} chars)`;
}

/**
 * Writes a secret to `path` with mode 0600, without a trailing newline (the Docker-secrets
 * convention read through OAUTH_CLIENT_SECRET_FILE). Written in place, not by rename, so a file
 * bind-mounted into a container sees the new content.
 */
export function writeSecretFile(path: string, secret: string): void {
  writeFileSync(path, secret, { mode: 0o600 });
  // `mode` applies only when the file is created; tighten an existing one too.
  chmodSync(path, 0o600);
}
