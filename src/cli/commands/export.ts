// `ocsf-embed export`: re-exports model.onnx from a run's best or last checkpoint.
import type { CommandModule } from 'yargs';
import { exportRun } from '../../train/export-run.node.ts';
import { SHARED_OPTIONS } from '../options.ts';

/** Parsed arguments of `ocsf-embed export`. */
export interface ExportArgs {
  run: string;
  out?: string;
  checkpoint?: 'best' | 'last';
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <run>',
  describe: 'Write model.onnx (raw OCSF fields in, embeddings out) from a run checkpoint',
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'run directory written by `train`' })
      .options({
        out: {
          ...SHARED_OPTIONS.out,
          demandOption: 'give the file to write with --out, e.g. --out model.onnx',
          describe: 'model file to write, e.g. model.onnx',
        },
        checkpoint: {
          choices: ['best', 'last'] as const,
          describe: 'which checkpoint (default: best, or last when the run has no best)',
        },
      })
      .example('$0 export runs/first --out model.onnx', 'the best checkpoint')
      .example('$0 export runs/first --out last.onnx --checkpoint last', 'the latest weights'),
  handler: (a) => {
    const r = exportRun(a.run, a.out!, a.checkpoint);
    const loss = r.bestValLoss === null ? '' : `, best validation loss ${r.bestValLoss.toFixed(4)}`;
    console.log(
      `wrote ${r.out} (${(r.bytes / 1024).toFixed(0)} KiB) from the ${r.checkpoint} checkpoint: step ${r.step}, epoch ${r.epoch}${loss}`,
    );
  },
};
