import { parseArgs } from 'node:util';
import type { ConfigOverrides } from '../config.ts';
import { ClientError } from '../errors.ts';
import { isProtocolChoice, PROTOCOL_CHOICES, type ProtocolChoice } from '../protocol-era.ts';

/** The CLI's commands. */
export const COMMANDS = ['demo', 'tools', 'ls', 'cat', 'call', 'whoami', 'login', 'logout', 'help'] as const;
export type Command = (typeof COMMANDS)[number];

/** A parsed command line. */
export interface Invocation {
  readonly command: Command;
  /** False when no command was named (the default `demo`). */
  readonly explicit: boolean;
  readonly positionals: readonly string[];
  readonly overrides: ConfigOverrides;
  readonly json: boolean;
  readonly help: boolean;
  readonly recursive: boolean;
  readonly offset: number | undefined;
  readonly length: number | undefined;
  /** `login --device`: RFC 8628 device authorization instead of a browser on this machine. */
  readonly device: boolean;
  /** `login --no-browser`: print the sign-in URL without trying to open a browser. */
  readonly noBrowser: boolean;
  /** `login --timeout S`: how long to wait for the person, in seconds (default 300). */
  readonly timeout: number | undefined;
  /** `--login` on a command: sign in in the browser when the server asks (and step up for more scope). */
  readonly login: boolean;
  /** `--client-metadata-url URL`: this client's ID metadata document, used when the authorization server supports CIMD. */
  readonly clientMetadataUrl: string | undefined;
}

const OPTIONS = {
  server: { type: 'string' },
  protocol: { type: 'string' },
  issuer: { type: 'string' },
  'token-url': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  scope: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  recursive: { type: 'boolean', short: 'r' },
  offset: { type: 'string' },
  length: { type: 'string' },
  device: { type: 'boolean' },
  'no-browser': { type: 'boolean' },
  timeout: { type: 'string' },
  login: { type: 'boolean' },
  'client-metadata-url': { type: 'string' },
} as const;

/** Flags of a command that may sign a person in on demand (`--login`). */
const SIGN_IN_FLAGS = ['login', 'no-browser', 'timeout', 'client-metadata-url'] as const;

/** Which command-specific flags each command accepts, and how many positionals. */
const SHAPE: Record<Command, { flags: readonly string[]; min: number; max: number; usage: string }> = {
  demo: { flags: SIGN_IN_FLAGS, min: 0, max: 0, usage: 'demo [--login]' },
  tools: { flags: SIGN_IN_FLAGS, min: 0, max: 0, usage: 'tools [--login]' },
  ls: { flags: ['recursive', ...SIGN_IN_FLAGS], min: 0, max: 1, usage: 'ls [dir] [--recursive] [--login]' },
  cat: {
    flags: ['offset', 'length', ...SIGN_IN_FLAGS],
    min: 1,
    max: 1,
    usage: 'cat <file> [--offset N] [--length N] [--login]',
  },
  call: { flags: SIGN_IN_FLAGS, min: 1, max: 2, usage: "call <tool> ['<json arguments>'] [--login]" },
  whoami: { flags: SIGN_IN_FLAGS, min: 0, max: 0, usage: 'whoami [--login]' },
  login: {
    flags: ['device', 'no-browser', 'timeout', 'client-metadata-url'],
    min: 0,
    max: 0,
    usage: 'login [--device] [--no-browser] [--timeout S] [--client-metadata-url URL]',
  },
  logout: { flags: [], min: 0, max: 0, usage: 'logout' },
  help: { flags: [], min: 0, max: 1, usage: 'help [command]' },
};

/** Usage line of a command. */
export function usageOf(command: Command): string {
  return `mcp-client ${SHAPE[command].usage}`;
}

/**
 * Parses `argv` (without `node` and the script).
 * @throws ClientError `config` for unknown commands or flags, wrong arity or bad numbers.
 */
export function parseCommandLine(argv: readonly string[]): Invocation {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ClientError('config', `${(err as Error).message}; see mcp-client --help`, { cause: err });
  }
  const { values: v, positionals } = parsed;
  const [first, ...rest] = positionals;
  const command = (first ?? 'demo') as Command;
  if (!COMMANDS.includes(command)) {
    throw new ClientError('config', `unknown command "${first}"; commands: ${COMMANDS.join(', ')}`);
  }
  const shape = SHAPE[command];
  const help = v.help === true;
  if (!help) {
    const flags = [
      'recursive',
      'offset',
      'length',
      'device',
      'no-browser',
      'timeout',
      'login',
      'client-metadata-url',
    ] as const;
    for (const flag of flags) {
      if (v[flag] !== undefined && !shape.flags.includes(flag)) {
        throw new ClientError('config', `--${flag} does not apply to "${command}"; usage: ${usageOf(command)}`);
      }
    }
    if (rest.length < shape.min || rest.length > shape.max) {
      throw new ClientError('config', `wrong number of arguments; usage: ${usageOf(command)}`);
    }
    const signsIn = command === 'login' || v.login === true;
    for (const flag of ['no-browser', 'timeout', 'client-metadata-url'] as const) {
      if (v[flag] !== undefined && !signsIn) {
        throw new ClientError('config', `--${flag} applies to a sign-in: add --login, or run mcp-client login`);
      }
    }
  }
  return {
    command,
    explicit: first !== undefined,
    positionals: rest,
    overrides: {
      serverUrl: v.server,
      mcpProtocol: protocolChoice(v.protocol),
      issuer: v.issuer,
      tokenUrl: v['token-url'],
      clientId: v['client-id'],
      clientSecretFile: v['client-secret-file'],
      scope: v.scope,
    },
    json: v.json === true,
    help,
    recursive: v.recursive === true,
    offset: count('offset', v.offset),
    length: count('length', v.length),
    device: v.device === true,
    noBrowser: v['no-browser'] === true,
    timeout: count('timeout', v.timeout),
    login: v.login === true,
    clientMetadataUrl: v['client-metadata-url'],
  };
}

function protocolChoice(value: string | undefined): ProtocolChoice | undefined {
  if (value === undefined || isProtocolChoice(value)) return value;
  throw new ClientError('config', `--protocol must be one of ${PROTOCOL_CHOICES.join(', ')}, got "${value}"`);
}

function count(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new ClientError(
      'config',
      `--${flag} must be a whole number of ${flag === 'timeout' ? 'seconds' : 'bytes'}, got "${value}"`,
    );
  return Number(value);
}

const GLOBAL_HELP = `Usage: mcp-client [command] [options]

Commands:
  demo                 the original sample's steps: connect, list ".", read sample1.txt and sample2.txt (default)
  tools                list the tools this token may call
  ls [dir]             list a directory (--recursive)
  cat <file>           write a file's exact bytes to stdout (--offset N --length N for a byte range)
  call <tool> [json]   call any tool with JSON arguments, e.g. call list-files '{"directory":"."}'
  whoami               show the token's claims (client, subject, scopes, audience, issuer, expiry); never the token
  login                sign in as a person in the browser (--device: with a code, for SSH sessions); later
                       commands act as you until logout
  logout               revoke the sign-in at the authorization server and forget it
  help [command]       help for a command

Options (override the environment):
  --server URL              SERVER_URL (default ws://localhost:3000/mcp; http(s):// uses Streamable HTTP)
  --protocol REV            MCP_PROTOCOL: auto (default: 2026-07-28 if the server offers it, else 2025-11-25),
                            2026-07-28 or 2025-11-25 (that revision only)
  --issuer URL              OAUTH_ISSUER (discovered)
  --token-url URL           OAUTH_TOKEN_URL (used without discovery)
  --client-id ID            OAUTH_CLIENT_ID (login: the public client, default mcp-cli; with --device mcp-cli-device;
                            auto: none registered beforehand: CIMD with --client-metadata-url when the authorization
                            server supports it, else dynamic client registration)
  --client-metadata-url URL login: this client's ID metadata document (https), used as client_id where supported
  --login                   a command signs you in in the browser when the server asks, and again for more scope
  --client-secret-file PATH OAUTH_CLIENT_SECRET_FILE (there is no flag for the secret itself: use the env or a file)
  --scope "A B"             OAUTH_SCOPE (default "file.read file.list")
  --json                    machine-readable output on stdout
  -h, --help                this help

Exit codes: 0 ok, 2 usage/config, 3 auth, 4 connection, 5 tool/server error.`;

const COMMAND_HELP: Record<Command, string> = {
  demo: 'Connects with OAuth, lists the root directory, reads sample1.txt and sample2.txt.',
  tools: 'Lists the tools the server offers to this token (tools the token may not call are hidden).',
  ls: 'Lists a directory (default "."). --recursive, -r: descend into subdirectories.',
  cat:
    "Writes exactly the file's bytes to stdout (text as stored, binary decoded from base64); nothing is added. " +
    '--offset N, --length N: byte range (where to continue goes to stderr). --json: the tool result ' +
    '(content and structuredContent) as JSON instead.',
  call: 'Calls a tool with a JSON object of arguments and prints the result.',
  whoami: 'Fetches a token as configured and prints its decoded claims. The token itself is never printed.',
  login:
    'Signs you in as a person: authorization code + PKCE in your browser with a redirect to 127.0.0.1 ' +
    '(--no-browser: only print the URL; --timeout S: how long to wait, default 300), or --device: a code to enter on any device (RFC 8628). The ' +
    'authorization server is OAUTH_ISSUER, else the one the server names in its metadata. Tokens are ' +
    'kept in your config directory (mode 0600, per issuer and server) and refreshed; commands then act ' +
    'as you while no client secret or OAUTH_ACCESS_TOKEN is set. --scope: what to ask for. --client-id auto ' +
    '(or --client-metadata-url URL): no client registered beforehand; the client ID metadata document where ' +
    'the authorization server supports it, else dynamic client registration. Commands take --login to sign ' +
    'in when the server asks (and again when it needs more scope).',
  logout: 'Revokes your sign-in for the server (RFC 7009) and deletes the stored tokens.',
  help: 'Shows help for a command.',
};

/** Help text for one command, or the overview. */
export function helpText(command?: Command): string {
  if (command === undefined || command === 'help') return GLOBAL_HELP;
  return `Usage: ${usageOf(command)} [options]\n\n${COMMAND_HELP[command]}\n\nGlobal options: see mcp-client --help.`;
}
