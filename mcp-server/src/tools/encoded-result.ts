/**
 * JSON text of parts of a tool result, made by the tool that built them, so that a direct answer
 * (mcp/direct-tool-calls.ts) splices them into its frame instead of serialising them again. A
 * listing's text block is the JSON of its structured content (as the spec recommends), and an
 * unchanged listing keeps both texts (tools/encoded-listings.ts): without this, every answer
 * serialised the entries twice and escaped the text once more.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';

/** The JSON of a result's `structuredContent` and (made at first use, then kept) of its `content`. */
export interface EncodedParts {
  readonly structuredContent: string;
  content(): string;
}

/**
 * Where the parts ride on the result: a symbol key, which JSON and the SDK's schemas ignore (a
 * WeakMap per result cost more in GC than the serialisation it saves).
 */
const PARTS = Symbol('encodedParts');
type WithParts = CallToolResult & { [PARTS]?: EncodedParts };

/**
 * Records `parts` on `result`: `parts.structuredContent` must be exactly
 * `JSON.stringify(result.structuredContent)` and `parts.content()` that of `result.content`.
 */
export function withEncodedParts(result: CallToolResult, parts: EncodedParts): CallToolResult {
  (result as WithParts)[PARTS] = parts;
  return result;
}

/** The parts recorded on `result`, if any. */
export function encodedPartsOf(result: CallToolResult): EncodedParts | undefined {
  return (result as WithParts)[PARTS];
}

/** Parts for a result whose content is one text block holding `json`, the JSON of its structured content. */
export function textBlockParts(json: string): EncodedParts {
  let content: string | undefined;
  return {
    structuredContent: json,
    content: () => {
      content ??= JSON.stringify([{ type: 'text', text: json }]);
      return content;
    },
  };
}
