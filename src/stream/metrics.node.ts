// Prometheus metrics of a stream consumer on prom-client (with the standard process and Node.js metrics),
// and the small HTTP listener that exposes them at /metrics.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram } from 'prom-client';
import { LATENCY_BUCKETS, metricsRegistry } from '../serve/metrics.ts';

/** Score buckets: fine steps up to 1 (where rank-based thresholds sit), coarser beyond. */
export const SCORE_BUCKETS = [
  0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 1, 1.1, 1.25, 1.5, 2, 3, 5,
];

/** A consumer's metrics. */
export class StreamMetrics {
  readonly registry = metricsRegistry();
  private readonly r = [this.registry];
  readonly consumed = new Counter({
    name: 'ocsf_embed_stream_messages_consumed_total',
    help: 'Messages delivered by the stream to this worker, redeliveries included.',
    registers: this.r,
  });
  readonly redelivered = new Counter({
    name: 'ocsf_embed_stream_messages_redelivered_total',
    help: 'Messages delivered again (not acknowledged in time by the worker that had them).',
    registers: this.r,
  });
  readonly acked = new Counter({
    name: 'ocsf_embed_stream_messages_acked_total',
    help: 'Messages acknowledged after their results were durable.',
    registers: this.r,
  });
  readonly scored = new Counter({
    name: 'ocsf_embed_stream_events_scored_total',
    help: 'Events scored.',
    registers: this.r,
  });
  readonly flagged = new Counter({
    name: 'ocsf_embed_stream_findings_total',
    help: 'Events above the threshold, each written as a Detection Finding.',
    registers: this.r,
  });
  readonly deadLettered = new Counter({
    name: 'ocsf_embed_stream_dead_lettered_total',
    help: 'Malformed messages published to the dead-letter subject, by reason (json, not_object, field).',
    labelNames: ['reason'] as const,
    registers: this.r,
  });
  readonly batchFailures = new Counter({
    name: 'ocsf_embed_stream_batch_failures_total',
    help: 'Micro-batches that failed to score or write (their messages are redelivered).',
    registers: this.r,
  });
  readonly pending = new Gauge({
    name: 'ocsf_embed_stream_consumer_pending_messages',
    help: 'Lag: messages in the stream not yet delivered to the consumer, as of the last delivery.',
    registers: this.r,
  });
  readonly inFlight = new Gauge({
    name: 'ocsf_embed_stream_messages_in_flight',
    help: 'Messages delivered to this worker and not yet acknowledged.',
    registers: this.r,
  });
  readonly score = new Histogram({
    name: 'ocsf_embed_stream_score',
    help: 'Anomaly scores of the events scored (watch its shape for drift).',
    buckets: SCORE_BUCKETS,
    registers: this.r,
  });
  readonly batchSeconds = new Histogram({
    name: 'ocsf_embed_stream_batch_duration_seconds',
    help: 'Time to check, score and write one micro-batch.',
    buckets: LATENCY_BUCKETS,
    registers: this.r,
  });
  readonly webhook = new Counter({
    name: 'ocsf_embed_webhook_findings_total',
    help: 'Findings handed to the webhook, by outcome (sent, failed, dropped).',
    labelNames: ['outcome'] as const,
    registers: this.r,
  });

  constructor() {
    for (const reason of ['json', 'not_object', 'field']) this.deadLettered.inc({ reason }, 0);
    for (const outcome of ['sent', 'failed', 'dropped']) this.webhook.inc({ outcome }, 0);
  }
}

/** Serves the registry's metrics at GET /metrics; resolves with the URL once listening. */
export async function serveMetrics(
  metrics: StreamMetrics,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (e) => res.writeHead(500).end(String(e)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
