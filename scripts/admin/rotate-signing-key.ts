// Realm settings > Keys > Add provider > rsa-generated (higher priority), then retire the old key. See docs/operations.md.
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli.ts';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectAdmin, connectionOptions, describeLogin } from './keycloak-admin.ts';
import { RETIRE_ACTIONS, type RetireAction, rotateSigningKey } from './operations.ts';

const NAME = 'rotate-signing-key';
const HELP = `Usage: node scripts/admin/rotate-signing-key.ts [--retire keep|passive|disable|delete]

Adds an rsa-generated RS256 key provider with a priority above every current RS256 key, so new
tokens are signed with the new key (new kid), then retires the previously active RS256 keys:
  keep     leave them active at their lower priority (still in the JWKS)
  passive  (default) stop signing with them, keep them in the JWKS: tokens they signed still verify
  disable  take them out of the JWKS: tokens they signed fail once resource servers refetch the JWKS
  delete   remove the providers for good (same effect as disable, cannot be undone)

${CONNECTION_HELP}`;

await runCli(NAME, async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { ...CONNECTION_FLAGS, retire: { type: 'string', default: 'passive' } },
  });
  if (values.help) return void console.log(HELP);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const retire = values.retire as RetireAction;
  if (!RETIRE_ACTIONS.includes(retire)) throw new UsageError(`--retire must be one of ${RETIRE_ACTIONS.join(', ')}`);
  const options = connectionOptions(values);
  const kc = await connectAdmin(options);
  console.log(`connected: ${describeLogin(options)}`);
  const result = await rotateSigningKey(kc, { retire });
  console.log(
    `added key provider ${result.newProviderId} (rsa-generated, RS256, priority ${result.priority}): new tokens are signed with kid ${result.newKid}`,
  );
  const done = { keep: 'kept active', passive: 'set passive', disable: 'disabled', delete: 'deleted' } as const;
  for (const r of result.retired) console.log(`${done[r.action]} previous key provider ${r.providerId} (kid ${r.kid})`);
  if (result.retired.length === 0) console.log('there was no previously active RS256 key');
});
