// The Kubernetes example's realm import is keycloak/realm-export.json (minus the demo people), written
// by scripts/generate-realm-import.ts; its YAML writer and the CRD schema converter are checked here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { strictSchema } from '../../../scripts/k8s/crd-schema.ts';
import { placeholderNames, productionRealm, realmImportManifest } from '../../../scripts/k8s/realm-import.ts';
import { type Json, toYaml } from '../../../scripts/k8s/yaml-block.ts';

const read = (p: string) => readFileSync(new URL(`../../../${p}`, import.meta.url), 'utf8');
const realm = JSON.parse(read('keycloak/realm-export.json'));

describe('KeycloakRealmImport example', () => {
  const file = read('deploy/kubernetes/keycloak/realm-import.yaml');
  const manifest = parse(file);

  it('is what the generator writes from keycloak/realm-export.json (run scripts/generate-realm-import.ts)', () => {
    assert.equal(file, realmImportManifest(realm));
  });

  it('holds the realm unchanged except for the demo people', () => {
    const expected = {
      ...realm,
      users: realm.users.filter((u: { serviceAccountClientId?: string }) => u.serviceAccountClientId),
    };
    assert.deepEqual(manifest.spec.realm, expected);
    const names = manifest.spec.realm.users.map((u: { username: string }) => u.username);
    assert.deepEqual(names.sort(), ['service-account-mcp-client', 'service-account-mcp-lister']);
    assert.doesNotMatch(file.replace(/^#.*$/gm, ''), /alice|bob|DEMO_/);
  });

  it('takes every placeholder of the realm from the Secret, and only those', () => {
    const used = placeholderNames(productionRealm(realm));
    assert.deepEqual(used, [
      'MCP_INTROSPECTION_SECRET',
      'MCP_LISTER_SECRET',
      'MCP_RESOURCE_URL',
      'OAUTH_CLIENT_SECRET',
    ]);
    assert.deepEqual(Object.keys(manifest.spec.placeholders).sort(), used);
    for (const name of used) {
      assert.deepEqual(manifest.spec.placeholders[name], { secret: { name: 'mcp-realm-secrets', key: name } });
    }
    assert.equal(manifest.spec.keycloakCRName, parse(read('deploy/kubernetes/keycloak/keycloak.yaml')).metadata.name);
  });

  it('a realm change makes the check fail', () => {
    const changed = { ...realm, accessTokenLifespan: realm.accessTokenLifespan + 1 };
    assert.notEqual(realmImportManifest(changed), file);
  });
});

describe('YAML writer', () => {
  const json: fc.Arbitrary<Json> = fc.jsonValue() as fc.Arbitrary<Json>;
  const tricky = fc.constantFrom(
    'yes',
    'no',
    'on',
    '~',
    'null',
    '1e3',
    '0x1F',
    '- a',
    'a: b',
    '#c',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Keycloak placeholder, kept literally
    '${X:y}',
    "'",
    '"',
    '\n',
    'é',
    '日本',
    '',
  );

  it('round-trips any JSON object through a YAML parser unchanged', () => {
    const key = fc.oneof(fc.string(), tricky);
    const value = fc.oneof(json, tricky, fc.array(fc.oneof(json, tricky)), fc.dictionary(key, fc.oneof(json, tricky)));
    fc.assert(
      fc.property(fc.dictionary(key, value), (object) => {
        // JSON.parse(JSON.stringify(...)) drops -0, which YAML keeps as -0 and JSON cannot tell apart.
        const data = JSON.parse(JSON.stringify(object));
        assert.deepEqual(parse(toYaml(data)), data);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses values JSON cannot hold', () => {
    assert.throws(() => toYaml({ a: Number.NaN }), TypeError);
  });
});

describe('CRD schema converter', () => {
  it('closes objects that list properties, except those that keep unknown fields', () => {
    const crd = {
      type: 'object',
      properties: {
        spec: { type: 'object', properties: { a: { type: 'string', nullable: true } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { b: { type: 'integer' } } },
        map: { type: 'object', additionalProperties: { type: 'string' } },
      },
    };
    assert.deepEqual(strictSchema(crd), {
      type: 'object',
      additionalProperties: false,
      properties: {
        spec: {
          type: 'object',
          additionalProperties: false,
          properties: { a: { type: ['string', 'null'], nullable: true } },
        },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { b: { type: 'integer' } } },
        map: { type: 'object', additionalProperties: { type: 'string' } },
      },
    });
  });
});
