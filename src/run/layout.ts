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
  reference: 'reference.safetensors',
  scorer: 'scorer.json',
  report: 'report.html',
} as const;
