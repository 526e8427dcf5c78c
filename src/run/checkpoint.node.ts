// Checkpoint files on disk, written atomically: a crash mid-write never replaces the last good one.
import { readFileSync } from 'node:fs';
import type { FlatSlot } from '../../graphs/optim/adamw.ts';
import { writeFileAtomic } from '../io/atomic.node.ts';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';

export function saveCheckpoint(path: string, c: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(c));
}

export function loadCheckpoint(path: string, layout: FlatSlot[]): Checkpoint {
  return decodeCheckpoint(readFileSync(path), layout);
}
