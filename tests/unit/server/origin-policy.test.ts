import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostChecker, isHostAllowed, LOOPBACK_HOSTS } from '../../../mcp-server/src/http/origin-policy.ts';

const HOSTS = [
  undefined,
  '',
  'localhost',
  'LOCALHOST:3000',
  '127.0.0.1:8080',
  '[::1]:3000',
  'mcp.example.com',
  'mcp.example.com:443',
  'mcp.example.com:444',
  'evil.example',
  'user@localhost',
  'localhost/path',
  'localhost:notaport',
  ' localhost ',
];

describe('Host check (DNS rebinding)', () => {
  it('hostChecker answers exactly as isHostAllowed, first and remembered, for listed and unlisted hosts', () => {
    for (const allowed of [LOOPBACK_HOSTS, ['mcp.example.com:443', 'localhost'], []]) {
      const check = hostChecker(allowed);
      for (const round of [1, 2]) {
        for (const host of HOSTS) {
          assert.equal(
            check(host),
            isHostAllowed(host, allowed),
            `${String(host)} against [${allowed}], round ${round}`,
          );
        }
      }
    }
  });

  it('stays exact past the values it remembers: a flood of distinct Host values gets the rule every time', () => {
    const check = hostChecker(LOOPBACK_HOSTS);
    for (let i = 0; i < 1000; i++) assert.equal(check(`evil-${i}.example`), false);
    for (let port = 1; port <= 1000; port++) assert.equal(check(`localhost:${port}`), true, 'past the bound too');
    assert.equal(check('localhost:3000'), true, 'a host first seen after the flood');
    assert.equal(check('localhost.evil.example'), false);
  });
});
