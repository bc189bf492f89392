// CustomResourceDefinition -> the JSON schemas kubeconform reads, one per served version, named as
// kubeconform's "{{.ResourceKind}}{{.KindSuffix}}.json" template expects (servicemonitor-monitoring-v1.json).
// Strict like kubeconform's own converter: an object that lists its properties allows no others,
// unless the CRD marks it x-kubernetes-preserve-unknown-fields.
//   node scripts/k8s/crd-schema.ts OUT_DIR CRD.yaml...
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

type Schema = { [key: string]: unknown };

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The OpenAPI v3 schema of a CRD version as strict JSON Schema (a copy; the input is unchanged). */
export function strictSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictSchema);
  if (!isSchema(node)) return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) out[key] = strictSchema(value);
  if (
    isSchema(node.properties) &&
    node.additionalProperties === undefined &&
    !node['x-kubernetes-preserve-unknown-fields']
  ) {
    out.additionalProperties = false;
  }
  if (node.nullable === true && typeof node.type === 'string') out.type = [node.type, 'null'];
  return out;
}

/** File name kubeconform looks up for a kind in a group and version. */
export function schemaFileName(kind: string, group: string, version: string): string {
  return `${kind.toLowerCase()}-${group.split('.')[0]}-${version}.json`;
}

/** Writes the schemas of every version of every CRD in `files` into `outDir`; returns the file names. */
export function writeCrdSchemas(outDir: string, files: readonly string[]): string[] {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as {
        kind?: string;
        spec?: {
          group: string;
          names: { kind: string };
          versions: { name: string; schema?: { openAPIV3Schema?: unknown } }[];
        };
      };
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const version of crd.spec.versions) {
        const schema = version.schema?.openAPIV3Schema;
        if (!schema) throw new Error(`${file}: version ${version.name} has no openAPIV3Schema`);
        const name = schemaFileName(crd.spec.names.kind, crd.spec.group, version.name);
        writeFileSync(`${outDir}/${name}`, `${JSON.stringify(strictSchema(schema))}\n`);
        written.push(name);
      }
    }
  }
  return written;
}

if (import.meta.main) {
  const [outDir, ...files] = process.argv.slice(2);
  if (!outDir || files.length === 0) {
    console.error('usage: node scripts/k8s/crd-schema.ts OUT_DIR CRD.yaml...');
    process.exit(2);
  }
  const written = writeCrdSchemas(outDir, files);
  if (written.length === 0) {
    console.error(`no CustomResourceDefinition found in ${files.join(', ')}`);
    process.exit(1);
  }
  console.log(`schemas: ${written.join(', ')}`);
}
