// Service metrics in the Prometheus text exposition format (0.0.4): labelled counters, gauges and
// histograms kept in memory, rendered on each scrape.

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
    .join(',');
}

function formatValue(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

interface Metric {
  render(): string;
}

/** A counter (or a gauge, which may also go down) with labels. */
export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' = 'counter',
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), value);
  }

  /** The current value for `labels` (0 when never set). */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0 && this.type === 'gauge') lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${formatValue(v)}`);
    return lines.join('\n');
  }
}

/** A histogram with fixed upper bounds, labelled. */
export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? ',' : '';
      this.buckets.forEach((b, i) => {
        lines.push(`${this.name}_bucket{${k}${sep}le="${formatValue(b)}"} ${s.counts[i]}`);
      });
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** Latency buckets in seconds: 1 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Batch-size buckets (events per model call). */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096] as const;

/** The service's metrics. */
export class ServiceMetrics {
  readonly requests = new Counter(
    'ocsf_embed_http_requests_total',
    'HTTP requests answered, by route, method and status code.',
  );
  readonly latency = new Histogram(
    'ocsf_embed_http_request_duration_seconds',
    'Time from a request arriving to its response being written, by route.',
    LATENCY_BUCKETS,
  );
  readonly inFlight = new Counter(
    'ocsf_embed_http_requests_in_flight',
    'Requests being handled now.',
    'gauge',
  );
  readonly eventsEmbedded = new Counter('ocsf_embed_events_embedded_total', 'Events embedded (POST /embed).');
  readonly eventsScored = new Counter('ocsf_embed_events_scored_total', 'Events scored (POST /score).');
  readonly anomalies = new Counter(
    'ocsf_embed_anomalies_flagged_total',
    'Scored events above the threshold (is_anomaly true).',
  );
  readonly batchSize = new Histogram(
    'ocsf_embed_model_batch_events',
    'Events per model call after micro-batching, by operation.',
    BATCH_BUCKETS,
  );
  readonly startTime = new Counter(
    'ocsf_embed_process_start_time_seconds',
    'Start time of the service since the Unix epoch, in seconds.',
    'gauge',
  );

  constructor() {
    this.startTime.set({}, Math.round(Date.now() / 1000));
    for (const c of [this.eventsEmbedded, this.eventsScored, this.anomalies]) c.inc({}, 0);
  }

  /** The metrics in the Prometheus text format (`text/plain; version=0.0.4`). */
  render(): string {
    const all: Metric[] = [
      this.requests,
      this.latency,
      this.inFlight,
      this.eventsEmbedded,
      this.eventsScored,
      this.anomalies,
      this.batchSize,
      this.startTime,
    ];
    return `${all.map((m) => m.render()).join('\n')}\n`;
  }
}
