// scripts/admin against a real Keycloak: each test mutates its own isolatedRealm, removed in finally.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  listClientScopes,
  rotateClientSecret,
  rotateSigningKey,
  setAccessTokenLifespan,
  setClientScope,
} from '../../scripts/admin/operations.ts';
import { isolatedRealm, requestToken, TEST_CLIENTS, TEST_RESOURCE, type TokenAnswer } from '../support/keycloak.ts';
import { INTROSPECTION_CLIENT } from '../support/revocation.ts';

type Realm = Awaited<ReturnType<typeof isolatedRealm>>;

async function inRealm(prefix: string, body: (realm: Realm) => Promise<void>): Promise<void> {
  const realm = await isolatedRealm(prefix);
  try {
    await body(realm);
  } finally {
    await realm.remove();
  }
}

/** A raw client-credentials request, so tests see the status and OAuth error. */
function tokenRequest(
  realm: Realm,
  clientSecret: string,
  scope = 'file.read file.list',
  clientId: string = TEST_CLIENTS.full.clientId,
): Promise<TokenAnswer> {
  return requestToken(realm.tokenEndpoint, clientId, clientSecret, scope);
}

async function jwksKids(realm: Realm): Promise<string[]> {
  const res = await fetch(`${realm.issuer}/protocol/openid-connect/certs`);
  const { keys } = (await res.json()) as { keys: { kid: string }[] };
  return keys.map((k) => k.kid);
}

async function kidOfNewToken(realm: Realm): Promise<string | undefined> {
  return decodeProtectedHeader(await realm.token()).kid;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(script: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=development', `scripts/admin/${script}`, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        KEYCLOAK_ADMIN_CLIENT_ID: 'test-admin',
        KEYCLOAK_ADMIN_CLIENT_SECRET: 'test-admin-secret',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function envFor(realm: Realm): Record<string, string> {
  return { KEYCLOAK_URL: realm.baseUrl, KEYCLOAK_REALM: realm.realm };
}

describe('admin operations', () => {
  it('rotateClientSecret: the old secret gets 401, the new one works', async () => {
    await inRealm('adm-secret', async (realm) => {
      const kc = await realm.admin();
      const old = TEST_CLIENTS.full.clientSecret;
      assert.equal((await tokenRequest(realm, old)).status, 200);
      const { clientId, secret } = await rotateClientSecret(kc, 'mcp-client');
      assert.equal(clientId, 'mcp-client');
      assert.notEqual(secret, old);
      const refused = await tokenRequest(realm, old);
      assert.equal(refused.status, 401);
      assert.ok(['invalid_client', 'unauthorized_client'].includes(refused.error ?? ''), refused.error);
      assert.equal((await tokenRequest(realm, secret)).status, 200);
      await assert.rejects(rotateClientSecret(kc, 'no-such-client'), { name: 'AdminError', code: 'not_found' });
    });
  });

  it("rotateSigningKey 'passive': new tokens carry the new kid, the old kid stays in the JWKS", async () => {
    await inRealm('adm-key-passive', async (realm) => {
      const oldKid = await kidOfNewToken(realm);
      assert.ok(oldKid);
      const r = await rotateSigningKey(await realm.admin(), { retire: 'passive' });
      assert.notEqual(r.newKid, oldKid);
      assert.deepEqual(
        r.retired.map((x) => [x.kid, x.action]),
        [[oldKid, 'passive']],
      );
      assert.equal(await kidOfNewToken(realm), r.newKid);
      const kids = await jwksKids(realm);
      assert.ok(kids.includes(oldKid), 'a passive key stays in the JWKS');
      assert.ok(kids.includes(r.newKid));
      const keys = await (await realm.admin()).realms.getKeys({ realm: realm.realm });
      assert.equal(
        keys.keys?.find((k) => k.kid === oldKid)?.status,
        'PASSIVE',
        'the old key keeps its kid, now passive',
      );
    });
  });

  for (const retire of ['disable', 'delete'] as const) {
    it(`rotateSigningKey '${retire}': the old kid leaves the JWKS`, async () => {
      await inRealm(`adm-key-${retire}`, async (realm) => {
        const oldKid = await kidOfNewToken(realm);
        const r = await rotateSigningKey(await realm.admin(), { retire });
        assert.equal(await kidOfNewToken(realm), r.newKid);
        assert.notEqual(r.newKid, oldKid);
        const kids = await jwksKids(realm);
        assert.ok(!kids.includes(oldKid!), `old kid ${oldKid} still in JWKS ${kids.join(',')}`);
        assert.ok(kids.includes(r.newKid));
      });
    });
  }

  it('setClientScope: revoking file.read makes it invalid_scope, granting it back works', async () => {
    await inRealm('adm-scope', async (realm) => {
      const kc = await realm.admin();
      const secret = TEST_CLIENTS.full.clientSecret;
      const revoked = await setClientScope(kc, 'mcp-client', 'file.read', 'revoke');
      assert.equal(revoked.changed, true);
      const refused = await tokenRequest(realm, secret, 'file.read');
      assert.equal(refused.status, 400);
      assert.equal(refused.error, 'invalid_scope');
      assert.equal((await tokenRequest(realm, secret, 'file.list')).status, 200, 'other scopes unaffected');
      assert.deepEqual((await listClientScopes(kc, 'mcp-client')).optional, ['file.list']);
      assert.equal((await setClientScope(kc, 'mcp-client', 'file.read', 'revoke')).changed, false, 'idempotent');

      assert.equal((await setClientScope(kc, 'mcp-client', 'file.read', 'grant')).changed, true);
      const granted = await tokenRequest(realm, secret, 'file.read');
      assert.equal(granted.status, 200);
      assert.match(String(decodeJwt(granted.access_token!).scope), /\bfile\.read\b/);
      assert.equal((await setClientScope(kc, 'mcp-client', 'file.read', 'grant')).changed, false, 'idempotent');
      await assert.rejects(setClientScope(kc, 'mcp-client', 'file.read', 'grant', 'default'), { code: 'conflict' });
      await assert.rejects(setClientScope(kc, 'mcp-client', 'file.write', 'grant'), { code: 'not_found' });
    });
  });

  it('setAccessTokenLifespan: new tokens get the new lifetime', async () => {
    await inRealm('adm-lifespan', async (realm) => {
      const r = await setAccessTokenLifespan(await realm.admin(), 120);
      assert.deepEqual(r, { realm: realm.realm, previous: 300, seconds: 120 });
      const claims = decodeJwt(await realm.token());
      // Keycloak reads the clock for iat and for exp separately: they may straddle a second.
      const lifetime = (claims.exp as number) - (claims.iat as number);
      assert.ok(lifetime === 120 || lifetime === 121, `token lifetime ${lifetime} s`);
      await assert.rejects(setAccessTokenLifespan(await realm.admin(), 0), TypeError);
    });
  });
});

describe('admin CLIs', () => {
  it('rotate-client-secret never prints the secret without --show-secret; --secret-file writes it 0600', async () => {
    await inRealm('adm-cli-secret', async (realm) => {
      const dir = mkdtempSync(join(tmpdir(), 'adm-cli-'));
      try {
        const file = join(dir, 'client_secret');
        const run = await runScript('rotate-client-secret.ts', ['mcp-client', '--secret-file', file], envFor(realm));
        assert.equal(run.code, 0, run.stderr);
        const secret = readFileSync(file, 'utf8');
        assert.ok(secret.length >= 16 && !secret.includes('\n'));
        assert.equal(statSync(file).mode & 0o777, 0o600);
        assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'secret printed');
        assert.match(run.stdout, /rotated the secret of client mcp-client/);
        assert.ok(run.stdout.includes(`${secret.slice(0, 4)}… (${secret.length} chars)`), run.stdout);
        assert.match(run.stdout, new RegExp(`wrote the new secret to ${file}`));
        assert.equal((await tokenRequest(realm, secret)).status, 200);

        const bare = await runScript('rotate-client-secret.ts', ['mcp-client'], envFor(realm));
        assert.equal(bare.code, 0, bare.stderr);
        const kc = await realm.admin();
        const [client] = await kc.clients.find({ clientId: 'mcp-client' });
        const current = (await kc.clients.getClientSecret({ id: client!.id! })).value!;
        assert.notEqual(current, secret);
        assert.ok(!bare.stdout.includes(current) && !bare.stderr.includes(current), 'secret printed');

        const shown = await runScript('rotate-client-secret.ts', ['mcp-client', '--show-secret'], envFor(realm));
        assert.equal(shown.code, 0, shown.stderr);
        const printed = /^secret: (\S+)$/m.exec(shown.stdout)?.[1];
        assert.ok(printed, shown.stdout);
        assert.equal((await tokenRequest(realm, printed)).status, 200);
        assert.equal((await tokenRequest(realm, current)).status, 401);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('rotate-signing-key prints the new kid, which signs new tokens', async () => {
    await inRealm('adm-cli-key', async (realm) => {
      const oldKid = await kidOfNewToken(realm);
      const run = await runScript('rotate-signing-key.ts', ['--retire', 'passive'], envFor(realm));
      assert.equal(run.code, 0, run.stderr);
      const newKid = /signed with kid (\S+)/.exec(run.stdout)?.[1];
      assert.ok(newKid, run.stdout);
      assert.equal(await kidOfNewToken(realm), newKid);
      assert.ok(run.stdout.includes(`set passive previous key provider`) && run.stdout.includes(`(kid ${oldKid})`));
    });
  });

  it('client-scope revoke / list / grant', async () => {
    await inRealm('adm-cli-scope', async (realm) => {
      const env = envFor(realm);
      const secret = TEST_CLIENTS.full.clientSecret;
      const revoke = await runScript('client-scope.ts', ['revoke', 'mcp-client', 'file.read'], env);
      assert.equal(revoke.code, 0, revoke.stderr);
      assert.match(revoke.stdout, /revoked optional client scope file\.read from client mcp-client/);
      assert.equal((await tokenRequest(realm, secret, 'file.read')).error, 'invalid_scope');
      const list = await runScript('client-scope.ts', ['list', 'mcp-client'], env);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /optional: file\.list\n/);
      const grant = await runScript('client-scope.ts', ['grant', 'mcp-client', 'file.read'], env);
      assert.equal(grant.code, 0, grant.stderr);
      assert.match(grant.stdout, /granted optional client scope file\.read to client mcp-client/);
      assert.equal((await tokenRequest(realm, secret, 'file.read')).status, 200);
    });
  });

  it('withdraw-access: scope unlinks then withdraws issued tokens; tokens withdraws a client or --all; usage', async () => {
    await inRealm('adm-cli-withdraw', async (realm) => {
      const env = envFor(realm);
      const { clientId, clientSecret } = TEST_CLIENTS.full;
      const token = async (id: string = clientId, secret: string = clientSecret, scope = 'file.list') =>
        (await requestToken(realm.tokenEndpoint, id, secret, scope, TEST_RESOURCE)).access_token as string;
      const active = async (t: string) => {
        const res = await fetch(`${realm.issuer}/protocol/openid-connect/token/introspect`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(INTROSPECTION_CLIENT.clientId)}:${INTROSPECTION_CLIENT.clientSecret}`).toString('base64')}`,
          },
          body: new URLSearchParams({ token: t }),
        });
        return ((await res.json()) as { active: boolean }).active;
      };

      const before = await token(clientId, clientSecret, 'file.read file.list');
      const scope = await runScript('withdraw-access.ts', ['scope', 'mcp-client', 'file.read'], env);
      assert.equal(scope.code, 0, scope.stderr);
      assert.match(
        scope.stdout,
        /unlinked client scope file\.read from client mcp-client\nclient mcp-client: not-before set to /,
      );
      assert.equal(await active(before), false, 'a token carrying the scope is withdrawn');
      assert.equal((await tokenRequest(realm, clientSecret, 'file.read')).error, 'invalid_scope');
      const after = await token();
      assert.equal(await active(after), true, 'a token requested afterwards works');

      const lister = await token(TEST_CLIENTS.lister.clientId, TEST_CLIENTS.lister.clientSecret);
      const client = await runScript('withdraw-access.ts', ['tokens', 'mcp-client'], env);
      assert.equal(client.code, 0, client.stderr);
      assert.equal(await active(after), false);
      assert.equal(await active(lister), true, 'another client is untouched');
      const all = await runScript('withdraw-access.ts', ['tokens', '--all'], env);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /realm adm-cli-withdraw-\S+: not-before set to /);
      assert.equal(await active(lister), false, '--all withdraws every client');
      assert.equal(await active(await token()), true);

      const usage = await runScript('withdraw-access.ts', ['tokens', 'mcp-client', '--all'], env);
      assert.notEqual(usage.code, 0);
      assert.match(usage.stderr, /usage: tokens <clientId> \| tokens --all/);
    });
  });

  it('fails clearly: unknown client, unknown realm, bad admin secret, Keycloak unreachable, bad usage', async () => {
    await inRealm('adm-cli-errors', async (realm) => {
      const env = envFor(realm);
      const cases: [string[], Record<string, string>, number, RegExp][] = [
        [['list', 'nope'], env, 1, /client nope not found in realm/],
        [['grant', 'mcp-client', 'file.write'], env, 1, /client scope file\.write not found/],
        [['list', 'mcp-client'], { ...env, KEYCLOAK_REALM: 'no-such-realm' }, 1, /realm no-such-realm not found/],
        [['list', 'mcp-client'], { ...env, KEYCLOAK_ADMIN_CLIENT_SECRET: 'wrong' }, 1, /admin login .* refused/],
        [
          ['list', 'mcp-client'],
          { ...env, KEYCLOAK_URL: 'http://127.0.0.1:9' },
          1,
          /unreachable at http:\/\/127\.0\.0\.1:9/,
        ],
        [['frobnicate'], env, 2, /unknown command frobnicate/],
      ];
      for (const [args, e, code, message] of cases) {
        const run = await runScript('client-scope.ts', args, e);
        assert.equal(run.code, code, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
        assert.match(run.stderr, message);
      }
    });
  });

  it('--help exits 0 without contacting Keycloak', async () => {
    for (const script of ['rotate-client-secret.ts', 'rotate-signing-key.ts', 'client-scope.ts', 'token-lifespan.ts']) {
      const run = await runScript(script, ['--help'], { KEYCLOAK_URL: 'http://127.0.0.1:9' });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Usage: node scripts\/admin\//);
    }
  });
});
