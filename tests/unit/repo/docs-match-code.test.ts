// The configuration tables of README.md, README.ja.md and mcp-client/README.md against the code:
// every variable config.ts reads is documented, with the default loadConfig actually applies, and
// nothing documented has left the code. Defaults come from calling loadConfig with only what it
// requires, never from a copy kept here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig as loadClientConfig } from '../../../mcp-client/src/config.ts';
import { loadConfig as loadServerConfig } from '../../../mcp-server/src/config.ts';
import {
  camelCase,
  type DocRow,
  specVariables,
  type TableCheck,
  tableProblems,
  translationProblems,
  variableTable,
} from './config-tables.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const SERVER_HEADING = /\(`mcp-server`\)/;
const CLIENT_HEADING = /\(`mcp-client`\)/;

/** True when some source file of `dir` (config.ts aside) mentions `name`. */
function readInSource(dir: string, name: string): boolean {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('config.ts'))
    .some((f) => readFileSync(path.join(ROOT, dir, f), 'utf8').includes(name));
}

/** Variables the server refuses to start without (from its own error), each given a plausible value. */
function serverMinimalEnv(): Record<string, string> {
  try {
    loadServerConfig({});
    return {};
  } catch (err) {
    const required = [...String((err as Error).message).matchAll(/^\s+([A-Z][A-Z0-9_]*): required but not set$/gm)];
    assert.ok(required.length > 0, `loadConfig({}) failed for another reason: ${(err as Error).message}`);
    return Object.fromEntries(
      required.map(([, name]) => [name, /URL|ISSUER/.test(name ?? '') ? 'http://127.0.0.1:1/realms/x' : 'x']),
    );
  }
}

function serverCheck(rows: readonly DocRow[], label: string): TableCheck {
  const env = serverMinimalEnv();
  const config = loadServerConfig(env) as unknown as Record<string, unknown>;
  const variables = specVariables(read('mcp-server/src/config.ts'));
  const defaults = new Map<string, unknown>();
  for (const name of variables) if (camelCase(name) in config) defaults.set(name, config[camelCase(name)]);
  return {
    label,
    rows,
    codeVariables: variables,
    defaults,
    setByTest: new Set(Object.keys(env)),
    readElsewhere: new Set(rows.flatMap((r) => r.names).filter((n) => readInSource('mcp-server/src', n))),
  };
}

/** Client config fields are named without the OAUTH_ prefix; the one other exception is listed. */
const CLIENT_FIELD: Record<string, string> = { INSECURE_HTTP_HOSTS: 'insecureHosts' };

function clientCheck(rows: readonly DocRow[], label: string): TableCheck {
  // Credentials are the client's only requirement; a ready-made token is the smallest one.
  const env = { OAUTH_ACCESS_TOKEN: 'test-token' };
  const config = loadClientConfig(env) as unknown as Record<string, unknown>;
  const variables = specVariables(read('mcp-client/src/config.ts'));
  const defaults = new Map<string, unknown>();
  for (const name of variables) {
    const field = CLIENT_FIELD[name] ?? camelCase(name.replace(/^OAUTH_/, ''));
    if (field in config) defaults.set(name, config[field]);
  }
  return {
    label,
    rows,
    codeVariables: variables,
    defaults,
    setByTest: new Set(Object.keys(env)),
    readElsewhere: new Set(rows.flatMap((r) => r.names).filter((n) => readInSource('mcp-client/src', n))),
  };
}

describe('configuration tables match the code', () => {
  const readme = read('README.md');
  const readmeJa = read('README.ja.md');

  it('README.md server table: every variable of mcp-server/src/config.ts, with its default', () => {
    assert.deepEqual(tableProblems(serverCheck(variableTable(readme, SERVER_HEADING), 'README.md server')), []);
  });
  it('README.md client table: every variable of mcp-client/src/config.ts, with its default', () => {
    assert.deepEqual(tableProblems(clientCheck(variableTable(readme, CLIENT_HEADING), 'README.md client')), []);
  });
  it('mcp-client/README.md settings table: the same', () => {
    const rows = variableTable(read('mcp-client/README.md'), /^### Settings/);
    assert.deepEqual(tableProblems(clientCheck(rows, 'mcp-client/README.md')), []);
  });
  it('README.ja.md lists the same variables with the same literal defaults', () => {
    assert.deepEqual(
      [
        ...translationProblems(
          'README.ja.md server',
          variableTable(readme, SERVER_HEADING),
          variableTable(readmeJa, SERVER_HEADING),
        ),
        ...translationProblems(
          'README.ja.md client',
          variableTable(readme, CLIENT_HEADING),
          variableTable(readmeJa, CLIENT_HEADING),
        ),
      ],
      [],
    );
  });

  describe('the checks can fail', () => {
    it('a README default that differs from the code is reported', () => {
      const altered = readme.replace('| `MAX_TOKEN_BYTES` | `8192` |', '| `MAX_TOKEN_BYTES` | `8193` |');
      assert.notEqual(altered, readme, 'the README row to alter was not found');
      const problems = tableProblems(serverCheck(variableTable(altered, SERVER_HEADING), 'altered'));
      assert.ok(
        problems.some((p) => /MAX_TOKEN_BYTES: documented default `8193`, code default 8192/.test(p)),
        String(problems),
      );
    });
    it('a code default that differs from the README is reported, as are undocumented and removed variables', () => {
      const check = serverCheck(variableTable(readme, SERVER_HEADING), 'altered');
      const defaults = new Map(check.defaults).set('PORT', 3001);
      const problems = tableProblems({
        ...check,
        defaults,
        codeVariables: [...check.codeVariables.filter((v) => v !== 'LOG_LEVEL'), 'NEW_SETTING'],
      });
      assert.ok(
        problems.some((p) => p.includes('PORT: documented default `3000`, code default 3001')),
        String(problems),
      );
      assert.ok(problems.some((p) => p.includes('NEW_SETTING is read by the code but not documented')));
      assert.ok(problems.some((p) => p.includes('LOG_LEVEL is documented but the code never reads it')));
    });
    it('a translation missing a variable or showing another default is reported', () => {
      const en = variableTable(readme, CLIENT_HEADING);
      const ja = variableTable(readmeJa, CLIENT_HEADING)
        .filter((r) => !r.names.includes('OAUTH_SCOPE'))
        .map((r) => (r.names.includes('SERVER_URL') ? { ...r, defaults: ['`ws://localhost:4000/mcp`'] } : r));
      const problems = translationProblems('altered', en, ja);
      assert.ok(problems.includes('altered: OAUTH_SCOPE is missing'), String(problems));
      assert.ok(problems.some((p) => p.startsWith('altered: SERVER_URL default')));
    });
  });
});
