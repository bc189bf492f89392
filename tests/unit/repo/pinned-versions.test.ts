// The Keycloak and Node versions are pinned once, in .env; everything else must agree with it.
// The server's Node flags are set once, in its image; the bench runs it with the same.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SERVER_NODE_OPTIONS } from '../../../bench/settings.ts';
import { readVersions } from '../../support/versions.ts';

const v = readVersions();
const read = (p: string) => readFileSync(new URL(`../../../${p}`, import.meta.url), 'utf8');

describe('pinned versions', () => {
  it('default images carry the pinned versions', () => {
    assert.match(v.KEYCLOAK_VERSION ?? '', /^26\.\d+\.\d+$/);
    assert.equal(v.KEYCLOAK_IMAGE, `quay.io/keycloak/keycloak:${v.KEYCLOAK_VERSION}`);
    assert.equal(v.NODE_IMAGE, `node:${v.NODE_VERSION}-bookworm-slim`);
  });

  it('compose.yaml and the Dockerfiles take images only from .env / the environment', () => {
    const compose = read('compose.yaml');
    assert.match(compose, /image: \$\{KEYCLOAK_IMAGE\}/);
    assert.doesNotMatch(compose, /keycloak\/keycloak:/);
    for (const f of ['mcp-server/Dockerfile', 'mcp-client/Dockerfile']) {
      assert.match(read(f), new RegExp(`^ARG NODE_IMAGE=${v.NODE_IMAGE}$`, 'm'), f);
    }
  });

  it('the server image runs Node with the flags the bench measures it with', () => {
    const env = /^ENV NODE_OPTIONS=(.*)$/m.exec(read('mcp-server/Dockerfile'))?.[1];
    assert.equal(env, SERVER_NODE_OPTIONS.join(' '));
  });

  it('the Node version agrees with .nvmrc and engines', () => {
    assert.equal(read('.nvmrc').trim(), v.NODE_VERSION);
    for (const f of ['package.json', 'mcp-server/package.json', 'mcp-client/package.json']) {
      assert.equal(JSON.parse(read(f)).engines.node, `>=${v.NODE_VERSION}`, f);
    }
  });
});
