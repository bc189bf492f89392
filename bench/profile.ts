/** Reads a V8 .cpuprofile and ranks functions by self time. Pure apart from reading the file. */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** One function's self time. */
export interface HotSpot {
  /** `name (file:line)`; `(program)`, `(garbage collector)` and `(idle)` as V8 names them. */
  readonly where: string;
  /** Self time, in ms. */
  readonly selfMs: number;
  /** Share of the sampled time, 0..1. */
  readonly share: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const short = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/work\/main\//, '');
  return `${name} (${short}:${lineNumber + 1})`;
}

/** The `top` functions of `profile` by self time (samples x their time deltas). */
export function hotSpots(profile: CpuProfile, top = 15): HotSpot[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!);
    // timeDeltas[i] is the time before sample i; attribute the next delta to it (V8's convention).
    const us = deltas[i + 1] ?? 0;
    if (!node) continue;
    const key = label(node);
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, us]) => ({ where, selfMs: us / 1000, share: total > 0 ? us / total : 0 }));
}

/** Reads `file` and returns its {@link hotSpots}. @throws on a missing or malformed file. */
export async function hotSpotsOf(file: string, top = 15): Promise<HotSpot[]> {
  return hotSpots(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, top);
}
