// Node file I/O for encoded datasets: write and read Arrow IPC files.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../core/errors.ts';
import type { FittedSpec } from '../features/types.ts';
import { datasetFromIPC, datasetToIPC, type EncodedDataset } from './dataset.ts';

/** Writes a dataset as an Arrow IPC file (see `datasetToIPC`). */
export function writeDatasetFile(path: string, ds: EncodedDataset, spec?: FittedSpec): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, datasetToIPC(ds, spec ? { spec } : {}));
}

/** Reads a dataset Arrow IPC file written by {@link writeDatasetFile}. */
export function readDatasetFile(path: string): ReturnType<typeof datasetFromIPC> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new UserError(`${path} does not exist or cannot be read: check the path.`);
  }
  return datasetFromIPC(bytes);
}
