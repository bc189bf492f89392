// Clients > (client) > Client scopes > Add client scope / Remove, from the command line. See docs/operations.md.
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli.ts';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectAdmin, connectionOptions, describeLogin } from './keycloak-admin.ts';
import { listClientScopes, setClientScope } from './operations.ts';

const NAME = 'client-scope';
const HELP = `Usage: node scripts/admin/client-scope.ts grant|revoke <clientId> <scope> [--default]
       node scripts/admin/client-scope.ts list <clientId>

grant   link the client scope to the client as Optional (granted only when the token request
        asks for it), or as Default with --default (always in the token)
revoke  unlink it: new token requests naming it get 400 invalid_scope; tokens already
        issued keep it until they expire
list    show the client's default and optional client scopes

${CONNECTION_HELP}`;

await runCli(NAME, async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { ...CONNECTION_FLAGS, default: { type: 'boolean' } },
  });
  if (values.help) return void console.log(HELP);
  const [command, clientId, scope, ...rest] = positionals;
  if (command === 'list') {
    if (!clientId || scope !== undefined) throw new UsageError('usage: list <clientId>');
  } else if (command === 'grant' || command === 'revoke') {
    if (!clientId || !scope || rest.length > 0) throw new UsageError(`usage: ${command} <clientId> <scope>`);
  } else {
    throw new UsageError(command ? `unknown command ${command}` : 'expected a command: grant, revoke or list');
  }
  const options = connectionOptions(values);
  const kc = await connectAdmin(options);
  console.log(`connected: ${describeLogin(options)}`);
  if (command === 'list') {
    const scopes = await listClientScopes(kc, clientId);
    console.log(`client ${clientId}`);
    console.log(`  default:  ${scopes.default.join(' ') || '(none)'}`);
    console.log(`  optional: ${scopes.optional.join(' ') || '(none)'}`);
    return;
  }
  const kind = values.default ? 'default' : 'optional';
  const r = await setClientScope(kc, clientId, scope!, command, kind);
  const verb = command === 'grant' ? 'granted' : 'revoked';
  console.log(
    r.changed
      ? `${verb} ${kind} client scope ${scope} ${command === 'grant' ? 'to' : 'from'} client ${clientId}`
      : `no change: ${scope} ${command === 'grant' ? 'already is' : 'is not'} a ${kind} client scope of ${clientId}`,
  );
});
