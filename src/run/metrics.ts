// The lines of a run's metrics.jsonl: one record per logged step and one per finished epoch.

/** A logged training step. */
export interface StepRecord {
  type: 'step';
  epoch: number;
  step: number;
  loss: number;
  lr: number;
  samples_per_s: number;
  time_s: number;
}

/** A finished epoch, with its validation loss and whether it is the best so far. */
export interface EpochRecord {
  type: 'epoch';
  epoch: number;
  step: number;
  train_loss: number;
  val_loss: number | null;
  lr: number;
  samples_per_s: number;
  time_s: number;
  metrics: Record<string, number>;
  best: boolean;
}

/** Any line of metrics.jsonl. */
export type MetricRecord = StepRecord | EpochRecord;
