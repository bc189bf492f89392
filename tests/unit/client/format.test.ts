import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatResult } from '../../../mcp-client/src/cli/format.ts';

describe('formatResult', () => {
  it('prints the file text but not the block that mirrors structuredContent', () => {
    const structured = { path: 'a.txt', size: 3, offset: 0, length: 3, encoding: 'utf8', eof: true };
    const out = formatResult({
      content: [
        { type: 'text', text: 'abc' },
        { type: 'text', text: JSON.stringify(structured) },
      ],
      structuredContent: structured,
    });
    assert.equal(out, 'abc');
  });

  it('keeps every text block when there is no structuredContent', () => {
    const out = formatResult({
      content: [
        { type: 'text', text: 'one' },
        { type: 'text', text: '{"two":2}' },
      ],
    });
    assert.equal(out, 'one\n{"two":2}');
  });
});
