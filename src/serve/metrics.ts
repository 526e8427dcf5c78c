// Prometheus metrics of the HTTP service on prom-client: one registry per service with the standard
// process and Node.js metrics (CPU, memory, event-loop lag — what long ONNX Runtime calls starve) and the
// service's own request, event and batch metrics, rendered in the text exposition format on each scrape.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds: 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Batch-size buckets (events per model call). */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

/** A registry holding the standard process and Node.js metrics (`process_*`, `nodejs_*`). */
export function metricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The service's metrics. */
export class ServiceMetrics {
  readonly registry = metricsRegistry();
  readonly requests = new Counter({
    name: 'ocsf_embed_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'ocsf_embed_http_request_duration_seconds',
    help: 'Time from a request arriving to its response being written, by route.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'ocsf_embed_http_requests_in_flight',
    help: 'Requests being handled now.',
    registers: [this.registry],
  });
  readonly eventsEmbedded = new Counter({
    name: 'ocsf_embed_events_embedded_total',
    help: 'Events embedded (POST /embed).',
    registers: [this.registry],
  });
  readonly eventsScored = new Counter({
    name: 'ocsf_embed_events_scored_total',
    help: 'Events scored (POST /score and POST /v1/logs).',
    registers: [this.registry],
  });
  readonly anomalies = new Counter({
    name: 'ocsf_embed_anomalies_flagged_total',
    help: 'Scored events above the threshold (is_anomaly true).',
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'ocsf_embed_model_batch_events',
    help: 'Events per model call after micro-batching, by operation.',
    labelNames: ['operation'] as const,
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  readonly startTime = new Gauge({
    name: 'ocsf_embed_process_start_time_seconds',
    help: 'Start time of the service since the Unix epoch, in seconds.',
    registers: [this.registry],
  });

  constructor() {
    this.startTime.set(Math.round(Date.now() / 1000));
  }

  /** The metrics in the Prometheus text format (`text/plain; version=0.0.4`). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
