import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/server';
import type * as z from 'zod';

/** What a tool run may use besides its arguments. */
export interface ToolContext {
  /** The served directory (TARGET_DIR). */
  readonly root: string;
  /** Largest whole-file read in bytes (MAX_FILE_BYTES). */
  readonly maxFileBytes: number;
  /** The client the call is made for (its token's `azp`): per-client shares are counted on it. */
  readonly clientId: string;
  /** Aborted when the client cancels the request or the connection ends. */
  readonly signal: AbortSignal;
  /** Sends `notifications/progress` when the request carried a progress token; a no-op otherwise. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

/** A tool's result plus what the audit line records (never file contents). */
export interface ToolOutcome {
  readonly result: CallToolResult;
  /** Relative path the call worked on, as normalized (or as given when invalid). */
  readonly path: string;
  /** Bytes read or entries listed. */
  readonly bytes: number;
  /** The error code when the call failed (an `isError` result). */
  readonly code?: string;
}

/** One tool: its MCP definition, the scope it needs, and its implementation. */
export interface ToolSpec<In extends z.ZodObject = z.ZodObject, Out extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  /** The OAuth scope a token needs to see and call this tool. */
  readonly scope: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: In;
  readonly outputSchema: Out;
  readonly annotations: ToolAnnotations;
  run(args: z.infer<In>, ctx: ToolContext): Promise<ToolOutcome>;
}
