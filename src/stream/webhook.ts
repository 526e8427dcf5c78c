// Alerts out: findings POSTed to a webhook in batches from a bounded queue, with a timeout per request and
// retries with exponential back-off; as plain JSON (`{"findings": [...]}`) or as Alertmanager's v2 API
// shape (POST /api/v2/alerts: an array of {labels, annotations, startsAt}). Every finding ends up counted
// as sent, failed (retries exhausted or refused) or dropped (queue full, or left at shutdown).
import type { DetectionFinding } from '../detect/findings.ts';

/** Body shapes. */
export type WebhookFormat = 'json' | 'alertmanager';
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['json', 'alertmanager'];

/** What became of findings handed to the webhook. */
export type WebhookOutcome = 'sent' | 'failed' | 'dropped';

/** Options for {@link WebhookSink}. */
export interface WebhookOptions {
  url: string;
  format: WebhookFormat;
  /** Per-request timeout (default 5 s). */
  timeoutMs?: number;
  /** Attempts after the first (default 5). */
  retries?: number;
  /** First back-off, doubled per retry up to 30 s (default 500 ms). */
  backoffMs?: number;
  /** Findings waiting at most; beyond, new findings are dropped and counted (default 10,000). */
  queueMax?: number;
  /** Findings per request at most (default 100). */
  batchMax?: number;
  /** Called with each outcome and how many findings it concerns. */
  onOutcome?: (outcome: WebhookOutcome, findings: number) => void;
  /** Where failures are reported (default console.error). */
  log?: (line: string) => void;
}

/** One Alertmanager v2 postable alert. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
}

/** Findings as Alertmanager v2 alerts: one alert per finding, labelled so that each stays distinct. */
export function alertmanagerAlerts(findings: readonly DetectionFinding[]): AlertmanagerAlert[] {
  return findings.map((f) => ({
    labels: {
      alertname: 'OcsfEmbedAnomaly',
      severity: f.severity.toLowerCase(),
      finding_uid: f.finding_info.uid,
      event_uid: f.finding_info.related_events[0]?.uid ?? '',
      model: f.finding_info.analytic.uid,
    },
    annotations: {
      summary: f.finding_info.title,
      description: f.message,
      score: String(f.unmapped.score),
      threshold: String(f.unmapped.threshold),
    },
    startsAt: new Date(f.finding_info.first_seen_time ?? f.time).toISOString(),
  }));
}

/** The request body for a batch of findings. */
export function webhookBody(format: WebhookFormat, findings: readonly DetectionFinding[]): string {
  return JSON.stringify(format === 'alertmanager' ? alertmanagerAlerts(findings) : { findings });
}

class Refused extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends findings to a webhook in the background; `enqueue` never blocks the consumer. */
export class WebhookSink {
  private readonly queue: DetectionFinding[] = [];
  private pumping: Promise<void> | null = null;
  private closing = false;
  /** Findings in the request being sent now. */
  private sending = 0;
  /** Set when close gave up waiting: outcomes after that are no longer counted (they were counted dropped). */
  private abandoned = false;
  private readonly o: Required<Omit<WebhookOptions, 'onOutcome' | 'log'>> & Pick<WebhookOptions, 'onOutcome'>;
  private readonly log: (line: string) => void;

  constructor(options: WebhookOptions) {
    this.o = { timeoutMs: 5000, retries: 5, backoffMs: 500, queueMax: 10_000, batchMax: 100, ...options };
    this.log = options.log ?? ((line) => console.error(line));
  }

  /** Findings waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues findings; those beyond the queue's room are dropped, counted and reported. */
  enqueue(findings: readonly DetectionFinding[]): void {
    if (findings.length === 0) return;
    const room = this.closing ? 0 : Math.max(0, this.o.queueMax - this.queue.length);
    for (const f of findings.slice(0, room)) this.queue.push(f);
    const dropped = findings.length - Math.min(room, findings.length);
    if (dropped > 0) {
      this.o.onOutcome?.('dropped', dropped);
      this.log(`webhook: queue full (${this.o.queueMax} findings): dropped ${dropped} finding(s)`);
    }
    this.pumping ??= this.pump().finally(() => {
      this.pumping = null;
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.o.batchMax);
      this.sending = batch.length;
      try {
        await this.send(batch);
        if (!this.abandoned) this.o.onOutcome?.('sent', batch.length);
      } catch (e) {
        if (this.abandoned) return;
        this.o.onOutcome?.('failed', batch.length);
        this.log(
          `webhook: ${batch.length} finding(s) not delivered to ${this.o.url}: ${(e as Error).message}`,
        );
      } finally {
        this.sending = 0;
      }
    }
  }

  private async send(batch: DetectionFinding[]): Promise<void> {
    const body = webhookBody(this.o.format, batch);
    let last = '';
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(30_000, this.o.backoffMs * 2 ** (attempt - 1)));
      try {
        const res = await fetch(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        if (res.ok) {
          await res.body?.cancel();
          return;
        }
        last = `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
        if (res.status < 500 && res.status !== 429 && res.status !== 408) throw new Refused(last);
      } catch (e) {
        if (e instanceof Refused) throw e;
        last =
          (e as Error).name === 'TimeoutError'
            ? `no answer within ${this.o.timeoutMs} ms`
            : (e as Error).message;
      }
    }
    throw new Error(`${last} (after ${this.o.retries + 1} attempts)`);
  }

  /**
   * Sends what is queued, waiting at most `timeoutMs`; what is still queued or being sent then is dropped
   * and counted.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    if (this.pumping) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.pumping, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    if (!this.pumping) return;
    this.abandoned = true;
    const left = this.queue.splice(0).length + this.sending;
    this.o.onOutcome?.('dropped', left);
    this.log(`webhook: shutting down with ${left} finding(s) not sent: dropped`);
  }
}
