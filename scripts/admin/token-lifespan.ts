// Realm settings > Tokens > Access Token Lifespan, from the command line. See docs/operations.md.
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli.ts';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectAdmin, connectionOptions, describeLogin } from './keycloak-admin.ts';
import { getAccessTokenLifespan, setAccessTokenLifespan } from './operations.ts';

const NAME = 'token-lifespan';
const HELP = `Usage: node scripts/admin/token-lifespan.ts [SECONDS]

Shows the realm's access token lifespan, or sets it to SECONDS. Tokens already issued keep their exp.

${CONNECTION_HELP}`;

await runCli(NAME, async () => {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: CONNECTION_FLAGS });
  if (values.help) return void console.log(HELP);
  if (positionals.length > 1) throw new UsageError('expected at most one argument: SECONDS');
  const seconds = positionals[0] === undefined ? undefined : Number(positionals[0]);
  if (seconds !== undefined && !(Number.isInteger(seconds) && seconds > 0)) {
    throw new UsageError(`SECONDS must be a positive integer, got ${positionals[0]}`);
  }
  const options = connectionOptions(values);
  const kc = await connectAdmin(options);
  console.log(`connected: ${describeLogin(options)}`);
  if (seconds === undefined) {
    console.log(`access token lifespan of realm ${options.realm}: ${(await getAccessTokenLifespan(kc)) ?? '?'} s`);
    return;
  }
  const r = await setAccessTokenLifespan(kc, seconds);
  console.log(`set the access token lifespan of realm ${r.realm}: ${r.previous ?? '?'} s -> ${r.seconds} s`);
});
