// Withdraws access from live connections, from the command line. See docs/operations.md.
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli.ts';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectAdmin, connectionOptions, describeLogin } from './keycloak-admin.ts';
import { type NotBeforeResult, setClientNotBefore, setRealmNotBefore, withdrawScope } from './withdraw.ts';

const NAME = 'withdraw-access';
const HELP = `Usage: node scripts/admin/withdraw-access.ts scope <clientId> <scope>
       node scripts/admin/withdraw-access.ts tokens <clientId>
       node scripts/admin/withdraw-access.ts tokens --all

scope   unlink the client scope from the client, then set the client's not-before to now:
        new tokens cannot carry the scope and the tokens already issued (which carry it) turn
        inactive; the MCP server closes their connections within REVOCATION_CHECK_INTERVAL_MS
        and the client's next token has the scope no more
tokens  set the not-before of the client (or of every client of the realm with --all) to now: every
        token issued before turns inactive; tokens requested afterwards work

${CONNECTION_HELP}`;

function describe(r: NotBeforeResult): string {
  return `${r.target}: not-before set to ${new Date(r.notBefore * 1000).toISOString()} (was ${r.previous === 0 ? 'unset' : new Date(r.previous * 1000).toISOString()})`;
}

await runCli(NAME, async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { ...CONNECTION_FLAGS, all: { type: 'boolean' } },
  });
  if (values.help) return void console.log(HELP);
  const [command, clientId, scope, ...rest] = positionals;
  if (command === 'scope') {
    if (!clientId || !scope || rest.length > 0 || values.all) throw new UsageError('usage: scope <clientId> <scope>');
  } else if (command === 'tokens') {
    if ((clientId === undefined) === !values.all || scope !== undefined) {
      throw new UsageError('usage: tokens <clientId> | tokens --all');
    }
  } else {
    throw new UsageError(command ? `unknown command ${command}` : 'expected a command: scope or tokens');
  }
  const options = connectionOptions(values);
  const kc = await connectAdmin(options);
  console.log(`connected: ${describeLogin(options)}`);
  if (command === 'scope') {
    const r = await withdrawScope(kc, clientId!, scope!);
    console.log(
      r.unlinked
        ? `unlinked client scope ${scope} from client ${clientId}`
        : `no change: ${scope} was not an optional client scope of ${clientId}`,
    );
    console.log(describe(r.notBefore));
    return;
  }
  console.log(describe(values.all ? await setRealmNotBefore(kc) : await setClientNotBefore(kc, clientId!)));
});
