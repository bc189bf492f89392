import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileBytes, formatResult } from '../../../mcp-client/src/cli/format.ts';

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

describe('fileBytes', () => {
  const structured = { path: 'a.txt', size: 3, offset: 0, length: 3, encoding: 'utf8', eof: true };
  const mirror = JSON.stringify(structured);
  it('is the file text without the block that mirrors structuredContent', () => {
    const out = fileBytes({
      content: [
        { type: 'text', text: 'abc' },
        { type: 'text', text: mirror },
      ],
      structuredContent: structured,
    });
    assert.equal(out.toString('utf8'), 'abc');
  });

  it('keeps a file whose text equals the mirror (only the last copy is dropped)', () => {
    const out = fileBytes({
      content: [
        { type: 'text', text: mirror },
        { type: 'text', text: mirror },
      ],
      structuredContent: structured,
    });
    assert.equal(out.toString('utf8'), mirror);
  });

  it('decodes a base64 blob', () => {
    const bytes = Buffer.from([0, 1, 2, 0xff]);
    const out = fileBytes({
      content: [{ type: 'resource', resource: { uri: 'file:///b.bin', blob: bytes.toString('base64') } }],
    });
    assert.ok(out.equals(bytes));
  });
});
