/** The served directory of the benchmark: a small listing and files of the read sizes. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Files in the listed directory. */
export const SMALL_DIR_FILES = 10;

/** Relative paths in the dataset, keyed by what rows ask for. */
export const DATASET = {
  smallDir: 'small',
  file1k: 'files/1k.txt',
  file64k: 'files/64k.txt',
  file1m: 'files/1m.txt',
} as const;

/** ASCII text of exactly `bytes` bytes (lines of 64), so read-file answers it as utf8 text. */
export function asciiText(bytes: number): Buffer {
  const line = `${'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2).slice(0, 63)}\n`;
  return Buffer.from(line.repeat(Math.ceil(bytes / 64)).slice(0, bytes));
}

/** A created dataset; `remove()` deletes it. */
export interface Dataset {
  readonly root: string;
  remove(): Promise<void>;
}

/** Creates the dataset in a new temporary directory. */
export async function createDataset(): Promise<Dataset> {
  const root = await mkdtemp(path.join(tmpdir(), 'mcp-bench-'));
  await mkdir(path.join(root, DATASET.smallDir));
  await mkdir(path.join(root, 'files'));
  for (let i = 0; i < SMALL_DIR_FILES; i++) {
    await writeFile(
      path.join(root, DATASET.smallDir, `file-${String(i).padStart(2, '0')}.txt`),
      asciiText(100 * (i + 1)),
    );
  }
  await writeFile(path.join(root, DATASET.file1k), asciiText(1024));
  await writeFile(path.join(root, DATASET.file64k), asciiText(64 * 1024));
  await writeFile(path.join(root, DATASET.file1m), asciiText(1024 * 1024));
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}
