// Request bodies of the service: parsing and checking `POST /embed` and `POST /score` bodies (one event, an
// `{ "events": [...] }` batch, a JSON array or JSON lines), with errors that name the offending field.
import { DEFAULT_LIMITS, shapeProblem } from '../data/records.ts';
import { checkRecord } from '../features/encode.ts';
import type { FittedSpec } from '../features/types.ts';

/** A request the service refuses: the HTTP status, a message saying what to send instead, and the field at fault. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }

  /** The JSON error body: `{ "error": …, "field"?: … }`. */
  toJSON(): { error: string; field?: string } {
    return this.field === undefined ? { error: this.message } : { error: this.message, field: this.field };
  }
}

/** A checked events request. */
export interface EventsRequest {
  events: object[];
  /** The body was one event (answer with one object), not a batch. */
  single: boolean;
  /** `/embed` only: unit-length embeddings. */
  normalized: boolean;
}

/** Options for {@link parseEventsBody}. */
export interface ParseBodyOptions {
  /** `embed` accepts `normalized` in a batch body. */
  route: 'embed' | 'score';
  /** Most events in one batch (413 above). */
  batchMax: number;
  /** The model's spec: the fields it reads as numbers must hold numbers. */
  spec?: FittedSpec;
  /** `normalized` when the body does not say (from the query string). */
  normalized?: boolean;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkEvent(spec: FittedSpec | undefined, event: unknown, field: string): object {
  if (!isObject(event)) {
    throw new RequestError(
      400,
      `${field || 'the body'} must be an OCSF event (a JSON object), got ${kindOf(event)}`,
      field || undefined,
    );
  }
  const shape = shapeProblem(event, DEFAULT_LIMITS);
  if (shape) throw new RequestError(400, shape.detail.split(';')[0]!, field || undefined);
  const problem = spec ? checkRecord(spec, event) : null;
  if (problem) {
    const path = problem.detail.split(' ')[0]!;
    throw new RequestError(400, problem.detail, field ? `${field}.${path}` : path);
  }
  return event;
}

/** Content types whose bodies are newline-delimited JSON, one event per line. */
const NDJSON_TYPES = /^application\/(x-ndjson|ndjson|x-jsonlines|jsonl|json-lines|x-jsonl)\b/i;

/** Whether a Content-Type header names newline-delimited JSON. */
export function isNdjsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && NDJSON_TYPES.test(contentType);
}

function nonBlankLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() !== '') out.push({ line: i + 1, text: l });
  });
  return out;
}

function parseNdjson(text: string): unknown[] {
  return nonBlankLines(text).map(({ line, text: l }, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch (e) {
      throw new RequestError(
        400,
        `line ${line} is not valid JSON (${(e as Error).message}): send one OCSF event as a JSON object per line`,
        `events[${i}]`,
      );
    }
  });
}

/** A body that is not one JSON document but several lines each holding one (NDJSON sent as application/json). */
function looksLikeNdjson(text: string): boolean {
  const lines = nonBlankLines(text);
  if (lines.length < 2) return false;
  try {
    JSON.parse(lines[0]!.text);
    return true;
  } catch {
    return false;
  }
}

function checkBatch(events: unknown[], opts: ParseBodyOptions, normalized: boolean): EventsRequest {
  if (events.length > opts.batchMax) {
    throw new RequestError(
      413,
      `too many events: ${events.length} in one request, at most ${opts.batchMax}; split the batch`,
      'events',
    );
  }
  return {
    events: events.map((e, i) => checkEvent(opts.spec, e, `events[${i}]`)),
    single: false,
    normalized,
  };
}

/**
 * Parses and checks a request body. It may be one event (a JSON object), a batch envelope (a JSON object
 * with an `events` key, which may hold only `events` — an array of event objects — and, for `/embed`,
 * `normalized`), a JSON array of events, or newline-delimited JSON (one event per line: declared by
 * `ndjson`, or recognised when a body is several JSON lines). Batches hold at most `batchMax` events.
 * Throws a {@link RequestError} (400, or 413 for too many events) that names the field at fault, e.g.
 * `events[3]` (the event's 0-based position in the body, whatever its form).
 */
export function parseEventsBody(text: string, opts: ParseBodyOptions & { ndjson?: boolean }): EventsRequest {
  const normalized = opts.normalized ?? false;
  if (opts.ndjson) return checkBatch(parseNdjson(text), opts, normalized);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    if (looksLikeNdjson(text)) return checkBatch(parseNdjson(text), opts, normalized);
    const reason = (e as Error).message;
    throw new RequestError(
      400,
      text.trim() === ''
        ? 'the body is empty: send one OCSF event as a JSON object, {"events": [...]}, a JSON array or JSON lines'
        : `the body is not valid JSON (${reason}): send one OCSF event as a JSON object, {"events": [...]}, a JSON array or JSON lines`,
    );
  }
  if (Array.isArray(body)) return checkBatch(body, opts, normalized);
  if (!isObject(body)) {
    throw new RequestError(
      400,
      `the body must be one OCSF event (a JSON object), {"events": [...]}, a JSON array of events or JSON lines; got ${kindOf(body)}`,
    );
  }
  if (!('events' in body)) {
    return { events: [checkEvent(opts.spec, body, '')], single: true, normalized };
  }
  const allowed = opts.route === 'embed' ? ['events', 'normalized'] : ['events'];
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new RequestError(
        400,
        `unknown field "${key}": a batch body holds only ${allowed.map((k) => `"${k}"`).join(' and ')}`,
        key,
      );
    }
  }
  const events = body.events;
  if (!Array.isArray(events)) {
    throw new RequestError(
      400,
      `"events" must be an array of OCSF event objects, got ${kindOf(events)}`,
      'events',
    );
  }
  let norm = normalized;
  if ('normalized' in body) {
    if (typeof body.normalized !== 'boolean') {
      throw new RequestError(
        400,
        `"normalized" must be true or false, got ${kindOf(body.normalized)}`,
        'normalized',
      );
    }
    norm = body.normalized;
  }
  return checkBatch(events, opts, norm);
}

/** Checks one event (a JSON object the spec can read); `field` names it in errors. */
export function checkEventAt(spec: FittedSpec | undefined, event: unknown, field: string): object {
  return checkEvent(spec, event, field);
}
