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

/**
 * Reads metrics.jsonl text: lines that are not complete JSON records (a partial last line left by a
 * kill) are skipped, and when a resumed run logged a step again, the later record replaces the earlier.
 */
export function parseMetrics(text: string): MetricRecord[] {
  const byKey = new Map<string, MetricRecord>();
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    const rec = r as MetricRecord;
    if (rec === null || typeof rec !== 'object' || (rec.type !== 'step' && rec.type !== 'epoch')) continue;
    if (typeof rec.step !== 'number') continue;
    const key = `${rec.type}:${rec.type === 'epoch' ? rec.epoch : rec.step}`;
    byKey.delete(key);
    byKey.set(key, rec);
  }
  return [...byKey.values()];
}

/** The records of a run up to and including optimisation step `step` (what a checkpoint at that step has seen). */
export function metricsUpTo(records: readonly MetricRecord[], step: number): MetricRecord[] {
  return records.filter((r) => r.step <= step);
}

/** metrics.jsonl text for `records`. */
export function formatMetrics(records: readonly MetricRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}
