// The event fields the page shows: row ids from the spec's uid path, and a few key OCSF fields per event
// (first present path wins), formatted for the anomaly table. Portable, no DOM.
import { compilePathGetter, type PathGetter } from '../src/data/flatten.ts';

/** A table column drawn from event fields. */
export interface FieldColumn {
  key: string;
  label: string;
  /** OCSF paths tried in order; the first one present gives the value. */
  paths: string[];
  /** Longest text shown (longer values are cut with an ellipsis; the full value is in the cell's title). */
  maxLength?: number;
}

/** The key fields of the anomaly table. */
export const FIELD_COLUMNS: readonly FieldColumn[] = [
  { key: 'class', label: 'class', paths: ['class_name', 'class_uid'] },
  { key: 'time', label: 'time', paths: ['time', 'time_dt'] },
  { key: 'severity', label: 'severity', paths: ['severity', 'severity_id'] },
  { key: 'status', label: 'status', paths: ['status', 'status_id'] },
  { key: 'user', label: 'user', paths: ['actor.user.name', 'user.name', 'actor.user.uid', 'user.uid'] },
  { key: 'src', label: 'source', paths: ['src_endpoint.ip', 'src_endpoint.hostname', 'device.hostname'] },
  {
    key: 'message',
    label: 'message',
    paths: ['message', 'api.operation', 'http_request.url.path'],
    maxLength: 80,
  },
];

function formatTime(v: unknown): string | null {
  const ms = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : null;
  if (ms === null) return typeof v === 'string' ? v : null;
  const date = new Date(ms < 1e11 ? ms * 1000 : ms);
  return Number.isNaN(date.getTime())
    ? String(v)
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Reads the key fields of events; create once per column set, call per event. */
export function fieldReader(
  columns: readonly FieldColumn[] = FIELD_COLUMNS,
): (record: object) => Record<string, string> {
  const getters: { column: FieldColumn; get: PathGetter[] }[] = columns.map((column) => ({
    column,
    get: column.paths.map((p) => compilePathGetter(p)),
  }));
  return (record) => {
    const out: Record<string, string> = {};
    for (const { column, get } of getters) {
      let value: string | null = null;
      for (const g of get) {
        const raw = g(record);
        value = column.key === 'time' ? formatTime(raw) : text(raw);
        if (value !== null && value !== '') break;
      }
      out[column.key] = value ?? '';
    }
    return out;
  };
}
