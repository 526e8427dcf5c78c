// The stream consumer: connects to NATS, makes sure the stream, the output streams and the durable pull
// consumer exist, then fetches messages (never more than --max-in-flight unacknowledged), checks each
// event, scores micro-batches against the run, writes score rows and findings to the sinks, and
// acknowledges messages only once the sinks have made their results durable (at-least-once). Malformed
// messages go to the dead-letter subject with the reason and are then acknowledged. Stopping drains: no
// new fetches, everything fetched is scored, written, flushed and acknowledged.
import { hostname } from 'node:os';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { UserError } from '../core/errors.ts';
import { buildFinding, type DetectionFinding, type FindingContext } from '../detect/findings.ts';
import { checkRecord } from '../features/encode.ts';
import { type LoadedModel, scoreRows } from '../run/model.node.ts';
import type { StreamMetrics } from './metrics.node.ts';
import type { Sink } from './sinks.node.ts';
import type { WebhookSink } from './webhook.ts';

/** Where the events come from and how they are taken. */
export interface ConsumeOptions {
  /** NATS server URL(s), comma-separated. */
  servers: string;
  stream: string;
  /** Durable consumer name; workers sharing it split the stream. */
  consumer: string;
  /** Subjects of the stream this consumer takes (default: all of the stream's). */
  filterSubject?: string;
  /** Messages per fetch and per model call at most. */
  batchSize: number;
  /** Messages delivered to this worker and not yet acknowledged, at most. */
  maxInFlight: number;
  /** How long the server waits for an ack before redelivering (used when the consumer is created). */
  ackWaitMs: number;
  /** Longest time written results wait for a flush (and their messages for an ack). */
  flushIntervalMs: number;
  deadLetterSubject: string;
  /** Create the stream (subjects: the filter subject) and the output streams when missing. */
  createStreams?: boolean;
  /** Subject the findings are published to (its stream must exist or be created). */
  findingsSubject?: string;
  /** This worker's name in file names and logs (default host-pid). */
  workerId?: string;
}

/** What a consumer did. */
export interface ConsumeSummary {
  consumed: number;
  redelivered: number;
  scored: number;
  flagged: number;
  deadLettered: number;
  acked: number;
  seconds: number;
}

/** Everything a running consumer needs besides its options. */
export interface ConsumeContext {
  model: LoadedModel;
  findings: FindingContext;
  sinks: Sink[];
  /** Output sinks are created once the connection is up (a subject sink needs it). */
  subjectSink?: (js: JetStreamClient) => Sink;
  webhook?: WebhookSink;
  metrics: StreamMetrics;
  log: (line: string) => void;
}

/** The default worker id: host name and process id. */
export function defaultWorkerId(): string {
  return `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}`;
}

/** Whether a NATS subject pattern (`*` one token, `>` the rest) matches a subject or overlaps a pattern. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>' || s[i] === '>') return i < s.length || p[i] === '>';
    if (i >= s.length) return false;
    if (p[i] !== '*' && s[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

function isApiError(e: unknown, code: number): boolean {
  return e instanceof JetStreamApiError && e.code === code;
}

async function connectTo(servers: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: servers.split(',').map((s) => s.trim()),
      name: 'ocsf-embed consume',
      maxReconnectAttempts: -1,
    });
  } catch (e) {
    throw new UserError(
      `cannot reach NATS at ${servers} (${(e as Error).message}): start a server with JetStream (\`nats-server -js\`) or pass its URL with --server`,
      'config',
    );
  }
}

/** Makes sure a stream stores `subject`; creates `name` for it when allowed, else says how to. */
async function ensureSubjectStored(
  jsm: JetStreamManager,
  subject: string,
  name: string,
  create: boolean,
  flag: string,
): Promise<string> {
  try {
    return await jsm.streams.find(subject);
  } catch {
    if (!create) {
      throw new UserError(
        `no stream stores ${flag} ${subject}: pass --create-streams, or create one (nats stream add ${name} --subjects '${subject}')`,
        'config',
      );
    }
    await jsm.streams.add({ name, subjects: [subject], duplicate_window: 10 * 60 * 1e9 });
    return name;
  }
}

async function prepare(jsm: JetStreamManager, o: ConsumeOptions): Promise<void> {
  try {
    await jsm.streams.info(o.stream);
  } catch (e) {
    if (!isApiError(e, JetStreamApiCodes.StreamNotFound)) throw e;
    if (!o.createStreams || !o.filterSubject) {
      throw new UserError(
        `the stream ${o.stream} does not exist: create it (nats stream add ${o.stream} --subjects 'ocsf.>'), or pass --create-streams with --subject 'ocsf.>'`,
        'config',
      );
    }
    await jsm.streams.add({ name: o.stream, subjects: [o.filterSubject] });
  }
  const input = await jsm.streams.info(o.stream);
  const inputSubjects = input.config.subjects ?? [];
  for (const [flag, subject] of [
    ['--dead-letter-subject', o.deadLetterSubject],
    ['--findings-subject', o.findingsSubject],
  ] as const) {
    if (!subject) continue;
    const taken = o.filterSubject ? [o.filterSubject] : inputSubjects;
    if (taken.some((s) => subjectMatches(s, subject))) {
      throw new UserError(
        `${flag} ${subject} is among the subjects this consumer reads (${taken.join(', ')}): pick a subject outside them, e.g. ocsf-embed.${flag === '--dead-letter-subject' ? 'dead-letter' : 'findings'}`,
        'config',
      );
    }
    const name = `${o.stream}_${flag === '--dead-letter-subject' ? 'DEAD_LETTER' : 'FINDINGS'}`;
    await ensureSubjectStored(jsm, subject, name, Boolean(o.createStreams), flag);
  }
  try {
    const info = await jsm.consumers.info(o.stream, o.consumer);
    const filter = info.config.filter_subject ?? '';
    if (o.filterSubject && filter !== o.filterSubject) {
      throw new UserError(
        `the consumer ${o.consumer} exists with the subject filter '${filter || '(none)'}', not '${o.filterSubject}': use the same --subject, or another --consumer name`,
        'config',
      );
    }
  } catch (e) {
    if (!isApiError(e, JetStreamApiCodes.ConsumerNotFound)) throw e;
    await jsm.consumers.add(o.stream, {
      durable_name: o.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: o.ackWaitMs * 1e6,
      max_ack_pending: -1,
      max_deliver: -1,
      ...(o.filterSubject ? { filter_subject: o.filterSubject } : {}),
    });
  }
}

type Checked =
  | { ok: true; event: object }
  | { ok: false; reason: 'json' | 'not_object' | 'field'; detail: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses and checks one message's event against the model's spec. */
export function checkMessage(model: LoadedModel, data: Uint8Array): Checked {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (e) {
    return { ok: false, reason: 'json', detail: `not UTF-8 JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    return { ok: false, reason: 'not_object', detail: `an OCSF event is a JSON object, got ${kind}` };
  }
  const problem = checkRecord(model.embedder.spec, value);
  if (problem) return { ok: false, reason: 'field', detail: problem.detail };
  return { ok: true, event: value };
}

const MAX_CONSECUTIVE_FAILURES = 10;

/**
 * Runs one worker until `signal` aborts (then drains) or a fatal error. Resolves with what it did.
 */
export async function runConsumer(
  o: ConsumeOptions,
  ctx: ConsumeContext,
  signal: AbortSignal,
): Promise<ConsumeSummary> {
  const t0 = performance.now();
  const { model, metrics, log } = ctx;
  const nc = await connectTo(o.servers);
  const summary: ConsumeSummary = {
    consumed: 0,
    redelivered: 0,
    scored: 0,
    flagged: 0,
    deadLettered: 0,
    acked: 0,
    seconds: 0,
  };
  try {
    // Requests and publish acknowledgements may wait up to half the ack wait on a loaded server.
    const timeout = Math.max(5000, o.ackWaitMs / 2);
    const jsm = await jetstreamManager(nc, { timeout });
    await prepare(jsm, o);
    const js = jetstream(nc, { timeout });
    const sinks = ctx.subjectSink ? [...ctx.sinks, ctx.subjectSink(js)] : ctx.sinks;
    const consumer = await js.consumers.get(o.stream, o.consumer);

    const queue: JsMsg[] = [];
    /** Results written, messages waiting for the flush that makes them durable, then their ack. */
    let held: JsMsg[] = [];
    let heldFindings: DetectionFinding[] = [];
    let heldSince = 0;
    let inFlight = 0;
    let fetching = true;
    let wake: (() => void) | null = null;
    const notify = () => {
      wake?.();
      wake = null;
    };
    const nap = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    signal.addEventListener('abort', notify, { once: true });

    const fetcher = (async () => {
      while (!signal.aborted) {
        const room = o.maxInFlight - inFlight;
        if (room < Math.min(o.batchSize, o.maxInFlight)) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        try {
          const messages = await consumer.fetch({ max_messages: Math.min(o.batchSize, room), expires: 1000 });
          for await (const m of messages) {
            queue.push(m);
            inFlight++;
            metrics.inFlight.set(inFlight);
            notify();
          }
        } catch (e) {
          if (signal.aborted) break;
          log(
            `warning: fetching from ${o.stream}/${o.consumer} failed (${(e as Error).message}); retrying in 1 s`,
          );
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    })().finally(() => {
      fetching = false;
      notify();
    });

    const flushAndAck = async () => {
      if (held.length === 0) return;
      for (const s of sinks) await s.flush();
      for (const m of held) m.ack();
      await nc.flush();
      summary.acked += held.length;
      metrics.acked.inc(held.length);
      inFlight -= held.length;
      metrics.inFlight.set(inFlight);
      ctx.webhook?.enqueue(heldFindings);
      held = [];
      heldFindings = [];
    };

    const processBatch = async (msgs: JsMsg[]) => {
      const started = performance.now();
      const events: object[] = [];
      const dead: Promise<unknown>[] = [];
      for (const m of msgs) {
        summary.consumed++;
        metrics.consumed.inc();
        if (m.info.redelivered) {
          summary.redelivered++;
          metrics.redelivered.inc();
        }
        metrics.pending.set(m.info.pending);
        const checked = checkMessage(model, m.data);
        if (checked.ok) {
          events.push(checked.event);
          continue;
        }
        const h = headers();
        h.set('Ocsf-Embed-Reason', checked.detail.slice(0, 1000));
        h.set('Ocsf-Embed-Reason-Kind', checked.reason);
        h.set('Ocsf-Embed-Subject', m.subject);
        h.set('Ocsf-Embed-Stream-Seq', String(m.seq));
        dead.push(
          js.publish(o.deadLetterSubject, m.data, { headers: h, msgID: `${o.stream}:${m.seq}` }).then(() => {
            summary.deadLettered++;
            metrics.deadLettered.inc({ reason: checked.reason });
          }),
        );
      }
      const rows = events.length > 0 ? scoreRows(await model.score(events)) : [];
      const now = Date.now();
      const findings: DetectionFinding[] = [];
      rows.forEach((r, i) => {
        metrics.score.observe(r.score);
        if (r.is_anomaly) findings.push(buildFinding(events[i]!, r, ctx.findings, now));
      });
      for (const s of sinks) await s.write({ rows, findings });
      await Promise.all(dead);
      summary.scored += rows.length;
      summary.flagged += findings.length;
      metrics.scored.inc(rows.length);
      metrics.flagged.inc(findings.length);
      metrics.batchSeconds.observe((performance.now() - started) / 1000);
      if (held.length === 0) heldSince = performance.now();
      held.push(...msgs);
      heldFindings.push(...findings);
    };

    let failures = 0;
    while (true) {
      if (queue.length === 0) {
        await flushAndAck();
        if (!fetching) break;
        await nap(o.flushIntervalMs);
        continue;
      }
      const msgs = queue.splice(0, o.batchSize);
      try {
        await processBatch(msgs);
        failures = 0;
      } catch (e) {
        failures++;
        metrics.batchFailures.inc();
        log(
          `error: a batch of ${msgs.length} message(s) failed and will be redelivered: ${(e as Error).message}`,
        );
        for (const m of msgs) m.nak(1000);
        inFlight -= msgs.length;
        metrics.inFlight.set(inFlight);
        if (failures >= MAX_CONSECUTIVE_FAILURES) throw e;
        continue;
      }
      const due = performance.now() - heldSince >= o.flushIntervalMs;
      if (due || held.length + o.batchSize > o.maxInFlight) await flushAndAck();
    }
    await fetcher;
    for (const s of sinks) await s.close();
  } finally {
    await nc.drain().catch(() => nc.close());
    summary.seconds = (performance.now() - t0) / 1000;
  }
  return summary;
}
