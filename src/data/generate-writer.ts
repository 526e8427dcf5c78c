// Node-only output of the synthetic generator: streams events and labels to JSONL (optionally gzipped) or Parquet files.
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';
import { type ColumnSource, fileWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import {
  API_SCENARIOS,
  type GenerateOptions,
  generateEvents,
  type Label,
  type OcsfEvent,
  resolveOptions,
  SCENARIOS,
} from './generate/index.ts';

/** File formats the writer produces. */
export type OutputFormat = 'jsonl' | 'parquet';

/** Options of {@link writeGenerated}: what to generate and where to put it. */
export interface WriteOptions extends GenerateOptions {
  /** Events file. `.jsonl`, `.jsonl.gz` or `.parquet`. */
  out: string;
  /** Labels file; its format follows its extension (`.parquet`, else JSONL). Default: beside `out`. */
  labels?: string;
  /** Events format; default inferred from `out` (`.parquet` means Parquet, anything else JSONL). */
  format?: OutputFormat;
  /** Called every `progressEvery` events with the number written so far. */
  onProgress?: (written: number) => void;
  progressEvery?: number;
}

/** What {@link writeGenerated} produced. */
export interface WriteSummary {
  events: number;
  anomalies: number;
  /** Anomalous events per scenario, in catalogue order (zeros included). */
  byScenario: Record<string, number>;
  out: string;
  labels: string;
  format: OutputFormat;
  seconds: number;
}

/** The format a file name implies: `.parquet` is Parquet, `.jsonl`/`.ndjson`/`.json` (optionally `.gz`) JSONL. */
export function formatFromPath(path: string): OutputFormat | undefined {
  const p = path.toLowerCase();
  if (p.endsWith('.parquet')) return 'parquet';
  if (/\.(jsonl|ndjson|json)(\.gz)?$/.test(p)) return 'jsonl';
  return undefined;
}

/** Default labels path beside an events file: `events.jsonl` → `events.labels.jsonl`. */
export function defaultLabelsPath(out: string, format: OutputFormat): string {
  const stem = out.replace(/\.(jsonl|ndjson|json|parquet)(\.gz)?$/i, '');
  return `${stem}.labels.${format === 'parquet' ? 'parquet' : 'jsonl'}`;
}

class TextSink {
  private readonly file: WriteStream;
  private readonly target: WriteStream | Gzip;
  private error: Error | undefined;
  private readonly failed: Promise<never>;
  private buffer: string[] = [];
  private size = 0;

  constructor(path: string) {
    this.file = createWriteStream(path);
    this.failed = new Promise<never>((_, reject) => {
      this.file.on('error', (e) => {
        this.error ??= e;
        reject(e);
      });
    });
    this.failed.catch(() => {});
    if (path.toLowerCase().endsWith('.gz')) {
      const gz = createGzip();
      gz.on('error', (e) => {
        this.error ??= e;
      });
      gz.pipe(this.file);
      this.target = gz;
    } else this.target = this.file;
  }

  async line(text: string): Promise<void> {
    this.buffer.push(text);
    this.size += text.length + 1;
    if (this.size >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.buffer.length === 0) return;
    const chunk = `${this.buffer.join('\n')}\n`;
    this.buffer = [];
    this.size = 0;
    if (!this.target.write(chunk)) await Promise.race([once(this.target, 'drain'), this.failed]);
    if (this.error) throw this.error;
  }

  async close(): Promise<void> {
    await this.flush();
    this.target.end();
    await finished(this.file);
    if (this.error) throw this.error;
  }
}

type ColumnType = 'INT32' | 'INT64' | 'STRING' | 'BOOLEAN';

/**
 * Parquet layout of events: top-level scalar fields are typed columns; every nested object or array
 * (`metadata`, `actor`, `http_request`, `src_endpoint`, `resources`, ...) is a STRING column holding the
 * JSON text of that value, named after the top-level field. Absent fields are nulls.
 */
export const EVENT_COLUMNS: readonly (readonly [string, ColumnType | 'JSON'])[] = [
  ['activity_id', 'INT32'],
  ['activity_name', 'STRING'],
  ['category_uid', 'INT32'],
  ['category_name', 'STRING'],
  ['class_uid', 'INT32'],
  ['class_name', 'STRING'],
  ['type_uid', 'INT32'],
  ['type_name', 'STRING'],
  ['severity_id', 'INT32'],
  ['severity', 'STRING'],
  ['status_id', 'INT32'],
  ['status', 'STRING'],
  ['time', 'INT64'],
  ['metadata', 'JSON'],
  ['message', 'STRING'],
  ['duration', 'INT64'],
  ['actor', 'JSON'],
  ['user', 'JSON'],
  ['auth_protocol_id', 'INT32'],
  ['auth_protocol', 'STRING'],
  ['is_mfa', 'BOOLEAN'],
  ['is_remote', 'BOOLEAN'],
  ['logon_type_id', 'INT32'],
  ['logon_type', 'STRING'],
  ['status_detail', 'STRING'],
  ['service', 'JSON'],
  ['api', 'JSON'],
  ['http_request', 'JSON'],
  ['http_response', 'JSON'],
  ['src_endpoint', 'JSON'],
  ['dst_endpoint', 'JSON'],
  ['connection_info', 'JSON'],
  ['traffic', 'JSON'],
  ['resources', 'JSON'],
  ['device', 'JSON'],
  ['process', 'JSON'],
  ['exit_code', 'INT32'],
];

const KNOWN = new Set(EVENT_COLUMNS.map((c) => c[0]));
const ROW_GROUP = 10000;

function schemaOf(columns: readonly (readonly [string, ColumnType])[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const [name, type] of columns) {
    if (type === 'STRING')
      schema.push({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    else schema.push({ name, type, repetition_type: 'OPTIONAL' });
  }
  return schema;
}

class ParquetSink<T> {
  private readonly writer: ParquetWriter;
  private readonly columns: readonly (readonly [string, ColumnType])[];
  private readonly cell: (row: T, column: number) => unknown;
  private rows: T[] = [];

  constructor(
    path: string,
    columns: readonly (readonly [string, ColumnType])[],
    cell: (row: T, column: number) => unknown,
    kvMetadata: { key: string; value: string }[],
  ) {
    this.columns = columns;
    this.cell = cell;
    this.writer = new ParquetWriter({
      writer: fileWriter(path),
      schema: schemaOf(columns),
      kvMetadata,
      createdBy: 'ocsf-embed generate',
    });
  }

  async row(r: T): Promise<void> {
    this.rows.push(r);
    if (this.rows.length >= ROW_GROUP) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const columnData: ColumnSource[] = this.columns.map(([name, type], c) => {
      const data = this.rows.map((r) => {
        const v = this.cell(r, c);
        if (v === undefined || v === null) return null;
        return type === 'INT64' ? BigInt(v as number) : v;
      });
      return { name, data, nullable: true };
    });
    this.rows = [];
    await this.writer.write({ columnData, rowGroupSize: ROW_GROUP });
  }

  async close(): Promise<void> {
    await this.flush();
    await this.writer.finish();
  }
}

function eventCell(event: OcsfEvent, c: number): unknown {
  const [name, type] = EVENT_COLUMNS[c]!;
  const v = event[name];
  if (v === undefined || v === null) return null;
  return type === 'JSON' ? JSON.stringify(v) : v;
}

const LABEL_COLUMNS: readonly (readonly [string, ColumnType])[] = [
  ['uid', 'STRING'],
  ['is_anomaly', 'BOOLEAN'],
  ['scenario', 'STRING'],
];

function labelCell(label: Label, c: number): unknown {
  return c === 0 ? label.uid : c === 1 ? label.is_anomaly : label.scenario;
}

interface Sink<T> {
  row(r: T): Promise<void>;
  close(): Promise<void>;
}

function textSink<T>(path: string): Sink<T> {
  const s = new TextSink(path);
  return { row: (r) => s.line(JSON.stringify(r)), close: () => s.close() };
}

/**
 * Generates events with {@link generateEvents} and streams them to `out`, and their labels to `labels`.
 * Output is byte-identical for the same options.
 */
export async function writeGenerated(opts: WriteOptions): Promise<WriteSummary> {
  const t0 = performance.now();
  const resolved = resolveOptions(opts);
  const format = opts.format ?? formatFromPath(opts.out) ?? 'jsonl';
  const labelsPath = opts.labels ?? defaultLabelsPath(opts.out, format);
  const labelsFormat = formatFromPath(labelsPath) ?? 'jsonl';
  const meta = [
    { key: 'ocsf_embed.nested_columns', value: 'json' },
    {
      key: 'ocsf_embed.generator',
      value: JSON.stringify({
        events: resolved.events,
        seed: resolved.seed,
        world_seed: resolved.worldSeed,
        start: new Date(resolved.start).toISOString(),
        hours: resolved.hours,
        anomaly_rate: resolved.anomalyRate,
      }),
    },
  ];
  const events: Sink<OcsfEvent> =
    format === 'parquet'
      ? new ParquetSink(
          opts.out,
          EVENT_COLUMNS.map(([n, t]) => [n, t === 'JSON' ? 'STRING' : t] as const),
          eventCell,
          meta,
        )
      : textSink(opts.out);
  const labels: Sink<Label> =
    labelsFormat === 'parquet'
      ? new ParquetSink(labelsPath, LABEL_COLUMNS, labelCell, meta)
      : textSink(labelsPath);
  const byScenario: Record<string, number> = {};
  const names = opts.profile === 'api' ? Object.keys(API_SCENARIOS) : SCENARIOS.map((s) => s.name);
  for (const name of names) byScenario[name] = 0;
  let count = 0;
  let anomalies = 0;
  const every = opts.progressEvery ?? 10000;
  for (const { event, label } of generateEvents(opts)) {
    if (format === 'parquet') {
      for (const key of Object.keys(event)) {
        if (!KNOWN.has(key)) throw new Error(`internal: event field ${key} has no Parquet column`);
      }
    }
    await events.row(event);
    await labels.row(label);
    count++;
    if (label.is_anomaly) {
      anomalies++;
      byScenario[label.scenario!] = (byScenario[label.scenario!] ?? 0) + 1;
    }
    if (opts.onProgress && count % every === 0) opts.onProgress(count);
  }
  await events.close();
  await labels.close();
  return {
    events: count,
    anomalies,
    byScenario,
    out: opts.out,
    labels: labelsPath,
    format,
    seconds: (performance.now() - t0) / 1000,
  };
}
