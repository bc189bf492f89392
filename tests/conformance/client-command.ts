// The command the conformance suite runs in client mode: `conformance client --command
// "node --conditions=development tests/conformance/client-command.ts" --scenario <name>`.
// The suite appends the server URL as the last argument, names the scenario in
// MCP_CONFORMANCE_SCENARIO and passes credentials as JSON in MCP_CONFORMANCE_CONTEXT
// ({client_id, client_secret, ...}). This adapter only translates that calling convention into
// the mcp-client CLI's own settings (SERVER_URL, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET) and runs
// the CLI's main(): token acquisition, discovery and the transport are the CLI's.
import { main } from '../../mcp-client/src/cli.ts';

const url = process.argv.at(-1);
if (url === undefined || !/^https?:\/\//.test(url)) {
  process.stderr.write('usage: client-command.ts <server-url> (run by the conformance suite)\n');
  process.exit(2);
}
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as Record<string, string | undefined>;

const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, SERVER_URL: url, RECONNECT_MAX_ATTEMPTS: '0' };
if (context.client_id !== undefined && context.client_secret !== undefined) {
  env.OAUTH_CLIENT_ID = context.client_id;
  env.OAUTH_CLIENT_SECRET = context.client_secret;
} else if (!scenario.startsWith('auth/')) {
  // Scenarios without authorization: the CLI always sends a bearer token, so give it a static
  // placeholder (these test servers ignore Authorization).
  env.OAUTH_ACCESS_TOKEN = 'conformance-no-auth';
}

// What a user of the CLI would run for each scenario that asks for particular tool calls (the
// tools are the suite's test server's); every other scenario lists the tools.
const CUSTOM_HEADER_ARGS = {
  region: 'us-west1',
  priority: 5,
  verbose: false,
  debug: true,
  empty_val: '',
  method_val: 'GET',
  float_val: 1.5,
  non_ascii_val: 'café',
  whitespace_val: ' padded ',
  leading_space_val: ' lead',
  trailing_space_val: 'trail ',
  internal_space_val: 'a b c',
  query: 'plain',
};
const CALLS: Record<string, string[][]> = {
  tools_call: [['call', 'add_numbers', '{"a":5,"b":3}', '--json']],
  'http-invalid-tool-headers': [['call', 'valid_tool', '{"region":"us-west1"}', '--json']],
  'http-custom-headers': [
    ['call', 'test_custom_headers', JSON.stringify(CUSTOM_HEADER_ARGS), '--json'],
    ['call', 'test_custom_headers_null', '{"region":"us-west1","priority":5,"query":"plain"}', '--json'],
  ],
};
const runs = CALLS[scenario] ?? [['tools', '--json']];
const argv = runs[0]!;
const io = {
  out: (t: string) => process.stdout.write(`${t}\n`),
  err: (t: string) => process.stderr.write(`${t}\n`),
  bytes: (b: Buffer) => process.stdout.write(b),
};

if (env.OAUTH_CLIENT_ID !== undefined) {
  // The suite hands out credentials pre-registered at its own authorization server without naming
  // it. The CLI sends a secret only to an issuer the user configured (docs/trust.md), and says which
  // one to set: this adapter does what a user would, once, and runs the CLI again with it.
  const lines: [keyof typeof io, string][] = [];
  const quiet = {
    out: (t: string) => lines.push(['out', t]),
    err: (t: string) => lines.push(['err', t]),
    bytes: () => undefined,
  };
  const first = await main(argv, env, quiet);
  const issuer = /set OAUTH_ISSUER=(\S+?)["'\s]/.exec(`${lines.map(([, t]) => t).join('\n')} `)?.[1];
  if (first !== 3 || issuer === undefined) {
    for (const [stream, text] of lines) if (stream !== 'bytes') io[stream](text);
    process.exit(first);
  }
  env.OAUTH_ISSUER = issuer;
}
for (const run of runs) {
  const code = await main(run, env, io);
  if (code !== 0) process.exit(code);
}
