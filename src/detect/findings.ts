// Flagged events as OCSF Detection Findings (class 2004): the finding record built from a scored event and
// the model that scored it, its severity from where the score falls among the reference events' scores,
// and a stable finding uid, so that a redelivered event yields the same finding (portable).
import { ecdfRank, sortedCopy } from './threshold.ts';

/** The OCSF schema version the findings follow. */
export const FINDING_SCHEMA_VERSION = '1.3.0';
/** Detection Finding: class 2004 in category 2 (Findings). */
export const DETECTION_FINDING = { classUid: 2004, categoryUid: 2 } as const;
/** Activity Create (1): a new finding. */
const ACTIVITY_CREATE = 1;
/** OCSF analytic type "Learning (ML/DL)". */
const ANALYTIC_LEARNING = 4;

/** OCSF severity ids and their captions. */
export const SEVERITIES = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical' } as const;
export type SeverityId = keyof typeof SEVERITIES;

/** The model that scored the events: what the finding names as its analytic. */
export interface FindingModel {
  /** Content id of the model: the first 16 hex digits of model.onnx's SHA-256. */
  id: string;
  /** The ocsf-embed version that scored. */
  version: string;
  /** Scoring method (e.g. `ensemble`). */
  method: string;
  /** The run directory's name. */
  run: string;
}

/** A scored event, as the score rows carry it; any further field (an explanation) is copied into the finding. */
export interface ScoredRow {
  uid: string | null;
  score: number;
  threshold: number;
  nearest: readonly string[];
}

/** What every finding of one scorer shares. */
export interface FindingContext {
  model: FindingModel;
  /** The reference events' own scores, sorted ascending (severity is the score's rank among them). */
  referenceSorted: Float64Array;
}

/** The shared part of the findings of a scorer fitted on `referenceScores`. */
export function findingContext(model: FindingModel, referenceScores: ArrayLike<number>): FindingContext {
  return { model, referenceSorted: sortedCopy(referenceScores) };
}

/**
 * Severity from where the score falls among the reference events' scores (its empirical-CDF rank, which
 * continues above 1 beyond the highest reference score): beyond the reference range by more than half
 * its span → Critical; beyond it → High; above the 99th percentile → Medium; else (above the threshold)
 * Low.
 */
export function severityOf(score: number, referenceSorted: Float64Array): SeverityId {
  const rank = ecdfRank(referenceSorted, score);
  if (rank > 1.5) return 5;
  if (rank > 1) return 4;
  if (rank > 0.99) return 3;
  return 2;
}

/** A 64-bit FNV-1a hash of a string, as 16 hex digits. */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

function numberAt(event: Record<string, unknown>, key: string): number | undefined {
  const v = event[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const ROW_KEYS = new Set(['uid', 'score', 'threshold', 'nearest', 'is_anomaly']);

/** An OCSF Detection Finding record (the fields this builder sets). */
export interface DetectionFinding {
  class_uid: 2004;
  class_name: 'Detection Finding';
  category_uid: 2;
  category_name: 'Findings';
  activity_id: 1;
  activity_name: 'Create';
  type_uid: 200401;
  type_name: 'Detection Finding: Create';
  time: number;
  severity_id: SeverityId;
  severity: string;
  status_id: 1;
  status: 'New';
  is_alert: true;
  message: string;
  metadata: { version: string; product: { name: string; vendor_name: string; version: string } };
  finding_info: {
    uid: string;
    title: string;
    desc: string;
    types: string[];
    created_time: number;
    first_seen_time?: number;
    last_seen_time?: number;
    analytic: { uid: string; name: string; type_id: 4; type: 'Learning (ML/DL)'; version: string };
    related_events: { uid: string; type_uid?: number; product_uid?: string }[];
    related_events_count: number;
  };
  unmapped: {
    score: number;
    threshold: number;
    rank: number;
    nearest: string[];
    model: FindingModel;
    [extra: string]: unknown;
  };
}

/**
 * The Detection Finding for one flagged event. `event` is the original OCSF event (its `time` and
 * `type_uid` are carried over); `row` its score row; `now` the finding's creation time (ms since the
 * epoch). The finding uid is `<model id>:<event uid>` (or a hash of the event when it has no uid), so a
 * redelivered event gives the same finding.
 */
export function buildFinding(
  event: object,
  row: ScoredRow,
  ctx: FindingContext,
  now: number = Date.now(),
): DetectionFinding {
  const e = event as Record<string, unknown>;
  const { model } = ctx;
  const eventUid = row.uid ?? `sha:${fnv1a64(JSON.stringify(event))}`;
  const severityId = severityOf(row.score, ctx.referenceSorted);
  const eventTime = numberAt(e, 'time');
  const classUid = numberAt(e, 'class_uid');
  const activityId = numberAt(e, 'activity_id');
  const typeUid =
    numberAt(e, 'type_uid') ??
    (classUid !== undefined && activityId !== undefined ? classUid * 100 + activityId : undefined);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (!ROW_KEYS.has(k) && v !== undefined) extra[k] = v;
  const rank = ecdfRank(ctx.referenceSorted, row.score);
  return {
    class_uid: 2004,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: ACTIVITY_CREATE,
    activity_name: 'Create',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    time: now,
    severity_id: severityId,
    severity: SEVERITIES[severityId],
    status_id: 1,
    status: 'New',
    is_alert: true,
    message: `event ${eventUid} scored ${row.score.toPrecision(4)}, above the threshold ${row.threshold.toPrecision(4)} (${model.method})`,
    metadata: {
      version: FINDING_SCHEMA_VERSION,
      product: { name: 'ocsf-embed', vendor_name: 'ocsf-embed', version: model.version },
    },
    finding_info: {
      uid: `${model.id}:${eventUid}`,
      title: 'Anomalous event: far from the reference events in embedding space',
      desc: `The event's embedding lies further from the run's reference events than the scorer's threshold allows (${model.method}, run ${model.run}); its nearest reference events are ${row.nearest.join(', ') || 'none'}.`,
      types: ['Anomaly'],
      created_time: now,
      ...(eventTime !== undefined && { first_seen_time: eventTime, last_seen_time: eventTime }),
      analytic: {
        uid: model.id,
        name: `ocsf-embed ${model.method}`,
        type_id: ANALYTIC_LEARNING,
        type: 'Learning (ML/DL)',
        version: model.version,
      },
      related_events: [{ uid: eventUid, ...(typeUid !== undefined && { type_uid: typeUid }) }],
      related_events_count: 1,
    },
    unmapped: {
      score: row.score,
      threshold: row.threshold,
      rank,
      nearest: [...row.nearest],
      model,
      ...extra,
    },
  };
}
