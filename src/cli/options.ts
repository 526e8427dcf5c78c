// Command-line options shared by the commands that read events in batches (embed, score).
import { DEVICES, type Device } from '../runtime/session.ts';

/** The `inputs` positional of a batch command. */
export const EVENTS_POSITIONAL = {
  type: 'string',
  array: true,
  default: [] as string[],
  describe: 'event files, directories or globs (.jsonl[.gz], .json, .parquet, .arrow)',
} as const;

/** Batch size, device, threads, rejects file and quiet: the options every batch command takes. */
export const BATCH_OPTIONS = {
  'batch-size': { type: 'number', default: 1024, describe: 'events per model call' },
  device: {
    choices: DEVICES,
    default: 'auto' as Device,
    describe: 'ONNX Runtime device (auto: CUDA when set up)',
  },
  threads: { type: 'number', describe: 'intra-op threads (default: 1 on 2-core hosts)' },
  rejects: {
    type: 'string',
    describe: 'rejected records JSONL (default <out>.rejects.jsonl, kept only when non-empty)',
  },
  quiet: { type: 'boolean', alias: 'q', default: false, describe: 'print nothing on success' },
} as const;
