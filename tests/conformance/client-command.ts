// The command the conformance suite runs in client mode: `conformance client --command
// "node --conditions=development tests/conformance/client-command.ts" --scenario <name>`.
// The suite appends the server URL as the last argument, names the scenario in
// MCP_CONFORMANCE_SCENARIO and passes credentials as JSON in MCP_CONFORMANCE_CONTEXT
// ({client_id, client_secret, ...}). This adapter only translates that calling convention into
// the mcp-client CLI's own settings (SERVER_URL, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET) and runs
// the CLI's main(): token acquisition, discovery and the transport are the CLI's.
// Authorization scenarios without credentials are a person signing in: the CLI runs with
// `--login --client-id auto` (no client registered beforehand: CIMD where the authorization server
// supports it, else dynamic registration) and a sign-in store in a temporary directory. The
// suite's authorization server redirects straight back with a code, so the "browser" here is a
// fetch that follows that redirect to the CLI's loopback listener: test wiring only, the product
// opens a real browser or prints the URL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../mcp-client/src/cli.ts';

const url = process.argv.at(-1);
if (url === undefined || !/^https?:\/\//.test(url)) {
  process.stderr.write('usage: client-command.ts <server-url> (run by the conformance suite)\n');
  process.exit(2);
}
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as Record<string, string | undefined>;

/** The client ID metadata document URL the suite's CIMD scenario expects (it never fetches it from us). */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

// Sign-ins are stored per user: this run's go to a directory of its own, removed at exit.
const configHome = mkdtempSync(join(tmpdir(), 'conformance-client-'));
process.on('exit', () => rmSync(configHome, { recursive: true, force: true }));
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  SERVER_URL: url,
  RECONNECT_MAX_ATTEMPTS: '0',
  XDG_CONFIG_HOME: configHome,
};
/** Extra arguments of every run: a person's sign-in on demand, for authorization scenarios without credentials. */
const signIn: string[] = [];
if (context.client_id !== undefined && context.client_secret !== undefined) {
  env.OAUTH_CLIENT_ID = context.client_id;
  env.OAUTH_CLIENT_SECRET = context.client_secret;
} else if (scenario.startsWith('auth/')) {
  signIn.push('--login', '--client-id', 'auto', '--client-metadata-url', CLIENT_METADATA_URL, '--timeout', '20');
} else {
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
  // The suite's server asks for more scope on tools/call than on tools/list: a step-up.
  'auth/scope-step-up': [['call', 'test-tool', '{}', '--json']],
  'http-invalid-tool-headers': [['call', 'valid_tool', '{"region":"us-west1"}', '--json']],
  'http-custom-headers': [
    ['call', 'test_custom_headers', JSON.stringify(CUSTOM_HEADER_ARGS), '--json'],
    ['call', 'test_custom_headers_null', '{"region":"us-west1","priority":5,"query":"plain"}', '--json'],
  ],
};
const runs = (CALLS[scenario] ?? [['tools', '--json']]).map((run) => [...run, ...signIn]);
const argv = runs[0]!;
const io = {
  out: (t: string) => process.stdout.write(`${t}\n`),
  err: (t: string) => process.stderr.write(`${t}\n`),
  bytes: (b: Buffer) => process.stdout.write(b),
  // The person's browser: follows the authorization server's redirect back to the loopback listener.
  openBrowser: (authorizationUrl: string) => {
    void fetch(authorizationUrl).then(
      (res) => res.body?.cancel(),
      (err: unknown) => process.stderr.write(`browser stand-in: ${(err as Error).message}\n`),
    );
  },
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
