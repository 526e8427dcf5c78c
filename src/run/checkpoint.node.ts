// Checkpoint files on disk, written atomically: a crash mid-write never replaces the last good one, and a
// truncated, damaged or foreign checkpoint fails to load with one line that names the file.
import { readFileSync } from 'node:fs';
import type { FlatSlot } from '../../graphs/optim/adamw.ts';
import { UserError } from '../core/errors.ts';
import { writeFileAtomic } from '../io/atomic.node.ts';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';

/** Writes a checkpoint atomically (see {@link writeFileAtomic}). */
export function saveCheckpoint(path: string, c: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(c));
}

/**
 * Reads and verifies a checkpoint against `layout` (the current graphs'; omit it to use the layout the file
 * stores). Any problem is a {@link UserError} naming the file and what to do.
 */
export function loadCheckpoint(path: string, layout?: FlatSlot[]): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(
      `cannot read ${path} (${(e as { code?: string }).code ?? (e as Error).message}): check the run directory`,
    );
  }
  try {
    return decodeCheckpoint(bytes, layout);
  } catch (e) {
    throw new UserError(
      `${path} is not a usable checkpoint of this run (${(e as Error).message.replace(/^safetensors: /, '')}): restore it, or start the run again in a new --out`,
    );
  }
}
