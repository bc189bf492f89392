// The server's logger censors credentials wherever a log call could carry them (the paths its
// audit and error lines use), in lines and in child bindings, without touching the caller's objects.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { censorSecrets, createLogger } from '../../../mcp-server/src/log.ts';

const SECRET = 'eyJhbGciOiJSUzI1NiJ9.secret.sig';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

describe('log redaction', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['token', { token: SECRET }],
    ['authorization', { authorization: `Bearer ${SECRET}` }],
    ['headers.authorization', { headers: { authorization: `Bearer ${SECRET}`, host: 'h' } }],
    ['req.headers.authorization', { req: { method: 'GET', headers: { authorization: `Bearer ${SECRET}` } } }],
    ['authInfo.token', { authInfo: { token: SECRET, clientId: 'c' } }],
    ['any.token', { renewal: { token: SECRET } }],
    ['any.authorization', { upstream: { authorization: SECRET } }],
  ];
  for (const [label, fields] of cases) {
    it(`censors ${label} and keeps the rest`, () => {
      const { logger, lines } = capture();
      const before = JSON.stringify(fields);
      logger.info({ event: 'x', ...fields });
      assert.equal(lines.length, 1);
      assert.ok(!lines[0]!.includes(SECRET), lines[0]);
      assert.ok(lines[0]!.includes('[redacted]'), lines[0]);
      assert.equal(JSON.stringify(fields), before, 'the caller object is unchanged');
    });
  }

  it('censors child bindings', () => {
    const { logger, lines } = capture();
    logger.child({ token: SECRET, azp: 'c' }).info({ event: 'y' });
    logger.child({ authInfo: { token: SECRET } }).info({ event: 'z' });
    for (const line of lines) assert.ok(!line.includes(SECRET), line);
    assert.match(lines[0]!, /"azp":"c"/);
  });

  it('returns a line without credentials as it is (no copy)', () => {
    const fields = { event: 'tool.call', tool: 'read-file', path: 'a.txt', bytes: 5, nested: { ok: 1 } };
    assert.equal(censorSecrets(fields), fields);
  });
});
