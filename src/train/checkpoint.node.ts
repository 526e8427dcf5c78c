// Checkpoint files on disk, written atomically: a crash mid-write never replaces the last good one.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FlatSlot } from '../../graphs/optim/adamw.ts';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';

/** Writes `bytes` to `path` via a temporary file, fsync and rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dir = openSync(dirname(path), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // Directories cannot be fsynced on every platform; the rename is still atomic.
  }
}

export function saveCheckpoint(path: string, c: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(c));
}

export function loadCheckpoint(path: string, layout: FlatSlot[]): Checkpoint {
  return decodeCheckpoint(readFileSync(path), layout);
}
