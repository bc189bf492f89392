import type { CallToolResult } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import type { TokenSource } from '../auth/token-source.ts';
import type { ClientConfig } from '../config.ts';
import { ClientError } from '../errors.ts';
import { connect } from '../index.ts';
import type { ResilientClient } from '../session.ts';
import { toolFailure } from '../tool-result.ts';
import type { Invocation } from './args.ts';
import {
  claimSummary,
  fileBytes,
  formatClaims,
  formatListing,
  formatResult,
  formatTools,
  truncationNote,
} from './format.ts';

/** Where a command writes. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  bytes(data: Buffer): void;
  /** Opens a URL in the person's browser (sign-in); default: the platform's opener, best effort. */
  openBrowser?(url: string): void;
}

/** What a command needs: the parsed line, the settings and a token source built from them. */
export interface CommandContext {
  readonly inv: Invocation;
  readonly config: ClientConfig;
  readonly tokenSource: TokenSource;
  readonly io: Io;
}

async function withClient<T>(ctx: CommandContext, fn: (c: ResilientClient) => Promise<T>): Promise<T> {
  const client = await connect({
    config: ctx.config,
    tokenSource: ctx.tokenSource,
    onEvent: (e) => {
      if (e.type === 'disconnected')
        ctx.io.err(`# connection closed (code ${e.code}${e.reason ? `: ${e.reason}` : ''})`);
      if (e.type === 'reconnecting') ctx.io.err(`# reconnecting (attempt ${e.attempt}, after ${e.delayMs} ms)`);
      if (e.type === 'reconnected') ctx.io.err('# reconnected');
      if (e.type === 'renewal_stopped') ctx.io.err(`# in-band token renewal stopped (${e.reason}): ${e.message}`);
    },
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Calls a tool and turns an `isError` result into a thrown ClientError. */
async function call(ctx: CommandContext, c: ResilientClient, tool: string, args: Record<string, unknown>) {
  const result = await c.callTool(tool, args);
  const failure = toolFailure(tool, result, ctx.tokenSource.clientId);
  if (failure) throw failure;
  return result;
}

function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.out(JSON.stringify(value, null, 2));
}

/** The original sample's four steps. */
export async function demo(ctx: CommandContext): Promise<void> {
  await withClient(ctx, async (c) => {
    const server = c.serverInfo;
    const steps: { step: string; result: CallToolResult }[] = [];
    if (!ctx.inv.json) {
      ctx.io.out(
        `1. Connected to ${server?.name ?? 'server'} ${server?.version ?? ''} at ${ctx.config.serverUrl} ` +
          `(MCP ${c.protocolVersion ?? '?'}) as ${ctx.tokenSource.clientId ?? 'a static token'}`,
      );
    }
    const listing = await call(ctx, c, 'list-files', { directory: '.' });
    steps.push({ step: 'list-files .', result: listing });
    if (!ctx.inv.json) ctx.io.out(`\n2. Files in "."\n${indent(formatListing(listing))}`);
    for (const [i, file] of ['sample1.txt', 'sample2.txt'].entries()) {
      const result = await call(ctx, c, 'read-file', { filePath: file });
      steps.push({ step: `read-file ${file}`, result });
      if (!ctx.inv.json) ctx.io.out(`\n${i + 3}. ${file}\n${indent(formatResult(result))}`);
    }
    if (ctx.inv.json) printJson(ctx, { server, protocolVersion: c.protocolVersion, steps });
  });
}

/** `tools`: the tools this token may call. */
export async function tools(ctx: CommandContext): Promise<void> {
  await withClient(ctx, async (c) => {
    const list = await c.listTools();
    if (ctx.inv.json) printJson(ctx, list);
    else ctx.io.out(formatTools(list));
  });
}

/** `ls [dir]`. */
export async function ls(ctx: CommandContext): Promise<void> {
  const args: Record<string, unknown> = { directory: ctx.inv.positionals[0] ?? '.' };
  if (ctx.inv.recursive) args.recursive = true;
  await withClient(ctx, async (c) => {
    const result = await call(ctx, c, 'list-files', args);
    if (ctx.inv.json) printJson(ctx, result.structuredContent ?? result);
    else ctx.io.out(formatListing(result));
  });
}

/** `cat <file>`: text printed, binary written raw. */
export async function cat(ctx: CommandContext): Promise<void> {
  const args: Record<string, unknown> = { filePath: ctx.inv.positionals[0] };
  if (ctx.inv.offset !== undefined) args.offset = ctx.inv.offset;
  if (ctx.inv.length !== undefined) args.length = ctx.inv.length;
  await withClient(ctx, async (c) => {
    const result = await call(ctx, c, 'read-file', args);
    if (ctx.inv.json) return printJson(ctx, result);
    ctx.io.bytes(fileBytes(result));
    const note = truncationNote(result);
    if (note) ctx.io.err(note);
  });
}

/** `call <tool> [json]`. */
export async function callCommand(ctx: CommandContext): Promise<void> {
  const [tool, raw] = ctx.inv.positionals as [string, string | undefined];
  let args: unknown = {};
  if (raw !== undefined) {
    try {
      args = JSON.parse(raw);
    } catch (err) {
      throw new ClientError('config', `the arguments of "call" must be JSON: ${(err as Error).message}`);
    }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new ClientError('config', 'the arguments of "call" must be a JSON object, e.g. \'{"directory":"."}\'');
  }
  await withClient(ctx, async (c) => {
    const result = await call(ctx, c, tool, args as Record<string, unknown>);
    if (ctx.inv.json) printJson(ctx, result);
    else ctx.io.out(formatResult(result));
  });
}

/** `whoami`: decoded claims of the configured token, never the token. */
export async function whoami(ctx: CommandContext): Promise<void> {
  const token = await ctx.tokenSource.getToken();
  let summary: Record<string, unknown>;
  try {
    summary = claimSummary(decodeJwt(token));
  } catch (err) {
    throw new ClientError('auth_refused', 'the access token is not a JWT, so its claims cannot be shown', {
      cause: err,
    });
  }
  if (ctx.inv.json) printJson(ctx, summary);
  else ctx.io.out(formatClaims(summary));
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}
