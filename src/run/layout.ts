// The files of a run directory, by role. Every reader and writer of a run names its files from here.

/** File names inside a run directory. */
export const RUN_FILES = {
  config: 'config.json',
  spec: 'spec.json',
  metrics: 'metrics.jsonl',
  last: 'checkpoint-last.safetensors',
  best: 'checkpoint-best.safetensors',
  rejects: 'rejects.jsonl',
  model: 'model.onnx',
  reconstruction: 'reconstruction.onnx',
  reference: 'reference.safetensors',
  scorer: 'scorer.json',
  report: 'report.html',
  detection: 'detection.json',
  charts: 'charts',
} as const;

/** What each file of a run directory holds, in the order a newcomer meets them (for `--help` and docs). */
export const RUN_FILE_ROLES: Record<keyof typeof RUN_FILES, string> = {
  model: 'the model: raw event fields in, embeddings out (written when training finishes)',
  reconstruction:
    'the masked-feature heads: how surprising each field of an event is given its others (scoring reads it)',
  report: 'loss curves, throughput, the feature table, detection quality',
  reference: 'embeddings of the training events that scores are measured against',
  scorer: 'the fitted anomaly scorer and its threshold',
  spec: 'the fitted feature spec (usable as --spec of a new run)',
  config: 'the model, objective and training options of the run',
  metrics: 'one JSON line per logged step and per epoch',
  last: 'weights, optimizer state and position, to resume from',
  best: 'the weights with the best validation loss (exported to model.onnx)',
  rejects: 'input records that could not be used, one JSON line each with where and why',
  detection: 'detection quality on labelled events (with --labels)',
  charts: 'the report charts as SVG files (a folder)',
};
