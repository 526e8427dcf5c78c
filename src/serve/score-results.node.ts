// What the service answers for scored events: one result per event, built from a scored batch the same way
// whether the batch was scored on the service's thread or in a scoring worker.
import { coverageWarning, type SchemaCoverage } from '../detect/explain.ts';
import { float32Number } from '../io/writers.node.ts';
import type { RunModel } from '../run/run-model.ts';

/** One scored event as the service answers it. */
export interface ScoreResult {
  uid: string | null;
  score: number;
  threshold: number;
  is_anomaly: boolean;
  nearest: string[];
  /** The fields that make the event unusual, as one line. */
  why: string;
  /** The same fields one by one. */
  reasons: { field: string; value: string; reason: string }[];
  /** Features of the model's spec that the event carries, e.g. `31 of 84`. */
  features: string;
  /** Set when the event carries too few of the spec's features for its score to mean much. */
  warning?: string;
}

/** The coverage warning of event `i` alone (requests are batched together, so each event carries its own). */
function eventWarning(c: SchemaCoverage, i: number, expected: number): { warning?: string } {
  const n = c.perEvent[i]!;
  const warning = coverageWarning(n, c.total, [n], expected);
  return warning ? { warning } : {};
}

/** Scores `events` with `model` and answers each one. */
export async function scoreResults(model: RunModel, events: readonly object[]): Promise<ScoreResult[]> {
  const s = await model.score(events);
  return events.map((_, i) => ({
    uid: s.uids[i]!,
    score: float32Number(s.scores[i]!),
    threshold: s.threshold,
    is_anomaly: s.isAnomaly[i] === 1,
    nearest: s.nearest[i]!,
    why: s.why[i]!,
    reasons: s.reasons[i]!.map(({ field, value, reason }) => ({ field, value, reason })),
    features: `${s.coverage?.perEvent[i] ?? 0} of ${s.coverage?.total ?? 0}`,
    ...(s.coverage && eventWarning(s.coverage, i, model.scoring?.expectedCoverage ?? 0)),
  }));
}
