// OTLP/HTTP JSON logs (`POST /v1/logs`, an ExportLogsServiceRequest): the OCSF events that log records
// carry in their body (a JSON string or a structured map) or in a named attribute, and the records that
// carry none, each with the reason, for the response's partial success.
import type { FittedSpec } from '../features/types.ts';
import { checkEventAt, RequestError } from './validate.ts';

/** An OTLP AnyValue in its JSON encoding. */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}

interface KeyValue {
  key: string;
  value?: AnyValue;
}

interface LogRecord {
  body?: AnyValue;
  attributes?: KeyValue[];
}

/** The events found in an OTLP logs request, and the log records refused. */
export interface OtlpEvents {
  events: object[];
  /** Log records that carried no usable OCSF event: where (`resourceLogs[0].scopeLogs[0].logRecords[3]`) and why. */
  rejected: { field: string; error: string }[];
}

/** Options for {@link parseOtlpLogs}. */
export interface OtlpOptions {
  /** Read the event from this log attribute instead of the body. */
  attribute?: string;
  /** Most log records in one request (413 above). */
  batchMax: number;
  spec?: FittedSpec;
}

/** An OTLP AnyValue as plain JSON data (int64 strings become numbers). */
export function anyValue(v: AnyValue | undefined): unknown {
  if (!v || typeof v !== 'object') return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('bytesValue' in v) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) {
    const out: Record<string, unknown> = {};
    for (const kv of v.kvlistValue.values ?? []) out[kv.key] = anyValue(kv.value);
    return out;
  }
  return null;
}

function eventOf(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (e) {
    throw new Error(`is a string that is not JSON (${(e as Error).message}); it must hold an OCSF event`);
  }
}

function list<T>(v: unknown, field: string): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new RequestError(400, `${field} must be an array`, field);
  return v as T[];
}

/**
 * Parses an OTLP/HTTP JSON logs request. Each log record's body — or, with `attribute`, that attribute —
 * must hold one OCSF event: a JSON string or a key-value map. Records without one are returned in
 * `rejected` (the request still succeeds for the others); a body that is not an ExportLogsServiceRequest
 * throws a {@link RequestError}.
 */
export function parseOtlpLogs(text: string, opts: OtlpOptions): OtlpEvents {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new RequestError(
      400,
      `the body is not valid JSON (${(e as Error).message}): send OTLP logs JSON-encoded (otlphttp exporter: encoding json)`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, 'the body must be an OTLP ExportLogsServiceRequest: {"resourceLogs": [...]}');
  }
  const events: object[] = [];
  const rejected: OtlpEvents['rejected'] = [];
  let records = 0;
  const resourceLogs = list<{ scopeLogs?: unknown }>(
    (body as { resourceLogs?: unknown }).resourceLogs,
    'resourceLogs',
  );
  resourceLogs.forEach((rl, r) => {
    list<{ logRecords?: unknown }>(rl?.scopeLogs, `resourceLogs[${r}].scopeLogs`).forEach((sl, s) => {
      const base = `resourceLogs[${r}].scopeLogs[${s}].logRecords`;
      list<LogRecord>(sl?.logRecords, base).forEach((rec, i) => {
        records++;
        if (records > opts.batchMax) {
          throw new RequestError(
            413,
            `too many log records: more than ${opts.batchMax} in one request; lower the exporter's batch size`,
            'resourceLogs',
          );
        }
        const where = opts.attribute ? `${base}[${i}].attributes.${opts.attribute}` : `${base}[${i}].body`;
        try {
          const value = opts.attribute
            ? anyValue(rec?.attributes?.find((a) => a.key === opts.attribute)?.value)
            : anyValue(rec?.body);
          if (value === null || value === undefined) {
            throw new Error(opts.attribute ? 'is missing' : 'is empty');
          }
          events.push(checkEventAt(opts.spec, eventOf(value), where));
        } catch (e) {
          const message = (e as Error).message;
          rejected.push({
            field: where,
            error: e instanceof RequestError ? message : `${where} ${message}`,
          });
        }
      });
    });
  });
  return { events, rejected };
}
