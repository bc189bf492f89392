// Clients > (client) > Credentials > Regenerate, from the command line. See docs/operations.md.
import { parseArgs } from 'node:util';
import { fingerprint, runCli, UsageError, writeSecretFile } from './cli.ts';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectAdmin, connectionOptions, describeLogin } from './keycloak-admin.ts';
import { rotateClientSecret } from './operations.ts';

const NAME = 'rotate-client-secret';
const HELP = `Usage: node scripts/admin/rotate-client-secret.ts <clientId> [--secret-file PATH] [--show-secret]

Regenerates the secret of a confidential client. The old secret stops working at once;
access tokens already issued stay valid until they expire.

  --secret-file PATH  write the new secret to PATH (mode 0600, no newline), e.g. the file
                      the client reads through OAUTH_CLIENT_SECRET_FILE
  --show-secret       print the new secret (by default only its first 4 characters and length)

${CONNECTION_HELP}`;

await runCli(NAME, async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { ...CONNECTION_FLAGS, 'secret-file': { type: 'string' }, 'show-secret': { type: 'boolean' } },
  });
  if (values.help) return void console.log(HELP);
  if (positionals.length !== 1) throw new UsageError('expected exactly one argument: the clientId');
  const clientId = positionals[0]!;
  const options = connectionOptions(values);
  const kc = await connectAdmin(options);
  console.log(`connected: ${describeLogin(options)}`);
  const { secret } = await rotateClientSecret(kc, clientId);
  console.log(
    `rotated the secret of client ${clientId}: new secret ${fingerprint(secret)}; the old secret no longer works`,
  );
  const file = values['secret-file'];
  if (file) {
    try {
      writeSecretFile(file, secret);
    } catch (err) {
      // The old secret is already gone; the new one stays readable in the console.
      console.error(
        `could not write ${file}: ${(err as Error).message}; the new secret is shown in the admin console under Clients > ${clientId} > Credentials`,
      );
      process.exitCode = 1;
      return;
    }
    console.log(`wrote the new secret to ${file} (mode 0600)`);
  }
  if (values['show-secret']) console.log(`secret: ${secret}`);
  else if (!file) {
    console.log(
      `not saved by this script (no --secret-file or --show-secret): the admin console shows it under Clients > ${clientId} > Credentials`,
    );
  }
});
