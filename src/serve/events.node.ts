// Streaming event input for the batch commands (embed, score): checked events handed over in chunks of a
// fixed size, with the same checks and reject accounting as `streamEvents`; reading waits while a chunk
// is being worked on, so memory stays bounded by the chunk size.
import { InputError } from '../data/errors.ts';
import { CORE_NUMERIC_PATHS, type LoadSummary, RejectsWriter } from '../data/load.node.ts';
import { type ReadOptions, readEventBatches } from '../data/readers.node.ts';
import { type Reject, type SourcePos, snippet } from '../data/records.ts';
import { checkRecord, numericChecker, specSourcePaths } from '../features/encode.ts';
import type { FittedSpec } from '../features/types.ts';

/** Options for {@link streamEventChunks}. */
export interface ChunkOptions {
  /** Events per chunk (the last one may hold fewer). */
  size: number;
  /** JSONL file for rejected records (created or replaced). */
  rejectsPath?: string;
  /** The model's spec: the fields it reads as numbers must hold numbers. */
  spec?: FittedSpec;
}

/**
 * Reads events from files, directories and globs and calls `onChunk` with each run of `size` accepted
 * events and the input-order index of its first event, awaiting it before reading on. Bad records are
 * counted and written to `rejectsPath`; an input with no events at all is an {@link InputError}.
 */
export async function streamEventChunks(
  inputs: readonly string[],
  opts: ChunkOptions,
  onChunk: (records: object[], start: number) => Promise<void>,
): Promise<LoadSummary> {
  const writer = opts.rejectsPath ? new RejectsWriter(opts.rejectsPath) : null;
  const summary: LoadSummary = {
    read: 0,
    accepted: 0,
    rejected: 0,
    byReason: {},
    files: [],
    emptyFiles: [],
    skippedFiles: [],
    rejectsPath: opts.rejectsPath ?? null,
    truncated: false,
  };
  const onReject = (r: Reject) => {
    summary.rejected++;
    summary.byReason[r.reason] = (summary.byReason[r.reason] ?? 0) + 1;
    writer?.write(r);
  };
  const spec = opts.spec;
  const check = spec ? (r: object) => checkRecord(spec, r) : numericChecker(CORE_NUMERIC_PATHS);
  const readOpts: ReadOptions = {
    onReject,
    onFile: (f) => {
      summary.files.push(f);
      if (f.empty) summary.emptyFiles.push(f.file);
    },
    onSkippedFile: (f) => summary.skippedFiles.push(f),
  };
  if (spec) readOpts.expectPaths = specSourcePaths(spec);
  let pending: object[] = [];
  let start = 0;
  try {
    for await (const b of readEventBatches(inputs, readOpts)) {
      for (let i = 0; i < b.records.length; i++) {
        const record = b.records[i]!;
        const problem = check(record);
        if (problem) {
          const source: SourcePos =
            b.unit === 'line'
              ? { file: b.file, line: b.positions[i]! }
              : { file: b.file, row: b.positions[i]! };
          onReject({
            ...source,
            reason: problem.reason,
            detail: problem.detail,
            text: snippet(JSON.stringify(record)),
          });
          continue;
        }
        summary.accepted++;
        pending.push(record);
        if (pending.length >= opts.size) {
          const chunk = pending;
          pending = [];
          await onChunk(chunk, start);
          start += chunk.length;
        }
      }
    }
    if (pending.length > 0) await onChunk(pending, start);
  } finally {
    writer?.close();
  }
  summary.read = summary.accepted + summary.rejected;
  if (summary.read === 0) {
    const empties = summary.emptyFiles.length > 0 ? ` (empty: ${summary.emptyFiles.join(', ')})` : '';
    throw new InputError(
      `No events found in ${inputs.join(', ')}${empties}: check the paths and that the files hold events.`,
    );
  }
  return summary;
}
