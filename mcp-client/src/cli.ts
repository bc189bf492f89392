#!/usr/bin/env node
/**
 * `mcp-client`: command-line front end of the library. Maps ClientError codes to exit codes
 * (the only place that does): 0 ok, 2 usage/config, 3 auth, 4 connection, 5 tool/server error.
 */
import { tokenSourceFromConfig } from './auth/from-config.ts';
import type { TokenSource } from './auth/token-source.ts';
import { type Command, helpText, parseCommandLine } from './cli/args.ts';
import { type CommandContext, callCommand, cat, demo, type Io, ls, tools, whoami } from './cli/commands.ts';
import {
  type LoginContext,
  login,
  logout,
  personalizeScopeError,
  signInTokenSource,
  tokenStoreFor,
} from './cli/login-commands.ts';
import { loadConfig } from './config.ts';
import { type ClientErrorCode, isClientError } from './errors.ts';

/** Process exit codes of the CLI. */
export const ExitCode = { OK: 0, USAGE: 2, AUTH: 3, CONNECTION: 4, TOOL: 5 } as const;

const EXIT_FOR: Record<ClientErrorCode, number> = {
  config: ExitCode.USAGE,
  auth_refused: ExitCode.AUTH,
  token_endpoint: ExitCode.AUTH,
  issuer_mismatch: ExitCode.AUTH,
  untrusted: ExitCode.AUTH,
  upgrade_refused: ExitCode.AUTH,
  insufficient_scope: ExitCode.AUTH,
  connect_failed: ExitCode.CONNECTION,
  reconnect_exhausted: ExitCode.CONNECTION,
  outcome_unknown: ExitCode.CONNECTION,
  resend_exhausted: ExitCode.CONNECTION,
  timeout: ExitCode.CONNECTION,
  tool_error: ExitCode.TOOL,
  protocol: ExitCode.TOOL,
};

const SIGN_IN: Record<'login' | 'logout', (ctx: LoginContext) => Promise<void>> = { login, logout };

const RUN: Record<Exclude<Command, 'help' | 'login' | 'logout'>, (ctx: CommandContext) => Promise<void>> = {
  demo,
  tools,
  ls,
  cat,
  call: callCommand,
  whoami,
};

/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let json = argv.includes('--json');
  let tokenSource: TokenSource | undefined;
  try {
    const inv = parseCommandLine(argv);
    json = inv.json;
    if (inv.command === 'help' || inv.help) {
      const topic = inv.command === 'help' ? (inv.positionals[0] as Command | undefined) : inv.command;
      io.out(helpText(inv.explicit ? topic : undefined));
      return ExitCode.OK;
    }
    const config = loadConfig(env, inv.overrides);
    if (inv.command === 'login' || inv.command === 'logout') {
      await SIGN_IN[inv.command]({ inv, config, env, io });
      return ExitCode.OK;
    }
    tokenSource = inv.login
      ? signInTokenSource({ inv, config, env, io })
      : tokenSourceFromConfig(config, tokenStoreFor(env));
    await RUN[inv.command]({ inv, config, tokenSource, io });
    return ExitCode.OK;
  } catch (caught) {
    const err = personalizeScopeError(caught, tokenSource);
    const code = isClientError(err) ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    if (json) {
      const status = isClientError(err) ? err.status : undefined;
      io.out(JSON.stringify({ error: { code: code ?? 'internal', message, ...(status ? { status } : {}) } }));
    } else {
      io.err(`mcp-client: ${message}`);
    }
    return code ? EXIT_FOR[code] : ExitCode.TOOL;
  }
}

/** Runs the CLI on this process's stdout/stderr and environment; resolves to the exit code. */
export function runCli(argv: readonly string[]): Promise<number> {
  const io: Io = {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    bytes: (b) => process.stdout.write(b),
  };
  return main(argv, process.env, io);
}

// Run directly (`node mcp-client/src/cli.ts`, `node mcp-client/dist/cli.js`); the installed
// `mcp-client` command (bin/mcp-client.js) calls runCli itself.
if (import.meta.main) process.exitCode = await runCli(process.argv.slice(2));
