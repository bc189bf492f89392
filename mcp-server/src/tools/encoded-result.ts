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

const partsOf = new WeakMap<CallToolResult, EncodedParts>();

/**
 * Records `parts` for `result`: `parts.structuredContent` must be exactly
 * `JSON.stringify(result.structuredContent)` and `parts.content()` that of `result.content`.
 */
export function withEncodedParts(result: CallToolResult, parts: EncodedParts): CallToolResult {
  partsOf.set(result, parts);
  return result;
}

/** The parts recorded for `result` (by identity), if any. */
export function encodedPartsOf(result: CallToolResult): EncodedParts | undefined {
  return partsOf.get(result);
}

/** Parts for a result whose content is the one text block `text` and whose structured content's JSON is `json`. */
export function textBlockParts(text: string, json: string): EncodedParts {
  let content: string | undefined;
  return {
    structuredContent: json,
    content: () => {
      content ??= JSON.stringify([{ type: 'text', text }]);
      return content;
    },
  };
}
