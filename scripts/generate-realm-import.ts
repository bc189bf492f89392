// Writes deploy/kubernetes/keycloak/realm-import.yaml from keycloak/realm-export.json (see
// scripts/k8s/realm-import.ts). --check: exit 1 when the file is out of date instead of writing it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { realmImportManifest } from './k8s/realm-import.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}keycloak/realm-export.json`;
const target = `${root}deploy/kubernetes/keycloak/realm-import.yaml`;

const manifest = realmImportManifest(JSON.parse(readFileSync(source, 'utf8')));
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== manifest) {
    console.error(
      `${target} is out of date with keycloak/realm-export.json: run node scripts/generate-realm-import.ts`,
    );
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  writeFileSync(target, manifest);
  console.log(`wrote ${target}`);
}
