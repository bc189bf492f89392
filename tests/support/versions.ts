import { readFileSync } from 'node:fs';

/** Reads the repository's single source of pinned versions (`.env`). */
export function readVersions(): Record<string, string> {
  const text = readFileSync(new URL('../../.env', import.meta.url), 'utf8');
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}
