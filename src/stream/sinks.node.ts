// Where the consumer's results go, each durable when `flush` resolves (the consumer acks only then):
// score rows as rotated JSON-lines files or Parquet part files, findings as rotated JSON-lines files, and
// findings published to a JetStream subject (each publish acknowledged by the stream, deduplicated by the
// finding uid).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { DetectionFinding } from '../detect/findings.ts';
import { float32Number, openScoreWriter, type ScoreRow } from '../io/writers.node.ts';

/** What one micro-batch produced. */
export interface OutputBatch {
  /** One row per scored event. */
  rows: ScoreRow[];
  /** One finding per flagged event. */
  findings: DetectionFinding[];
}

/** A destination for results; what `write` took is durable once `flush` resolves. */
export interface Sink {
  readonly name: string;
  write(batch: OutputBatch): Promise<void>;
  /** Makes everything written so far durable. */
  flush(): Promise<void>;
  /** Flushes and finishes the current file. */
  close(): Promise<void>;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // Directories cannot be fsynced on every platform.
  }
}

/** Names of the files one worker writes: `<prefix>-<worker>-<n>.<ext>`, n counting from 1. */
class FileNames {
  private n = 0;
  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly worker: string,
    private readonly ext: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }
  next(): string {
    this.n++;
    return join(this.dir, `${this.prefix}-${this.worker}-${String(this.n).padStart(6, '0')}.${this.ext}`);
  }
}

/**
 * JSON lines appended to the current file and fsynced on flush; a new file starts once the current one
 * holds `rotateBytes`.
 */
export class JsonlFileSink implements Sink {
  private fd: number | null = null;
  private bytes = 0;
  private readonly names: FileNames;
  constructor(
    readonly name: string,
    dir: string,
    prefix: string,
    worker: string,
    private readonly rotateBytes: number,
    private readonly lines: (batch: OutputBatch) => string[],
  ) {
    this.names = new FileNames(dir, prefix, worker, 'jsonl');
  }

  async write(batch: OutputBatch): Promise<void> {
    const lines = this.lines(batch);
    if (lines.length === 0) return;
    if (this.fd === null) this.fd = openSync(this.names.next(), 'a');
    const text = `${lines.join('\n')}\n`;
    this.bytes += writeSync(this.fd, text);
  }

  async flush(): Promise<void> {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    if (this.bytes >= this.rotateBytes) {
      closeSync(this.fd);
      this.fd = null;
      this.bytes = 0;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Score rows as JSON lines, as `ocsf-embed score` writes them. */
export function scoreLines(batch: OutputBatch): string[] {
  return batch.rows.map((r) =>
    JSON.stringify({
      uid: r.uid,
      score: float32Number(r.score),
      threshold: r.threshold,
      is_anomaly: r.is_anomaly,
      nearest: r.nearest,
    }),
  );
}

/** Findings as JSON lines. */
export function findingLines(batch: OutputBatch): string[] {
  return batch.findings.map((f) => JSON.stringify(f));
}

/**
 * Score rows as Parquet: the rows written since the last flush become one part file on flush (written
 * beside, fsynced, renamed into place), so every file in the folder is complete. Part size follows the
 * consumer's flush: at most --max-in-flight rows.
 */
export class ParquetPartSink implements Sink {
  readonly name = 'parquet';
  private rows: ScoreRow[] = [];
  private readonly names: FileNames;
  constructor(
    private readonly dir: string,
    worker: string,
    private readonly metadata: Record<string, string>,
  ) {
    this.names = new FileNames(dir, 'scores', worker, 'parquet');
  }

  async write(batch: OutputBatch): Promise<void> {
    for (const r of batch.rows) this.rows.push(r);
  }

  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const rows = this.rows;
    this.rows = [];
    const path = this.names.next();
    const tmp = `${path}.tmp`;
    const writer = openScoreWriter(tmp, 'parquet', this.metadata);
    await writer.write(rows);
    await writer.close();
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    fsyncDir(this.dir);
  }

  close(): Promise<void> {
    return this.flush();
  }
}

/**
 * Findings published to a JetStream subject. Each publish waits for the stream's acknowledgement, so a
 * written batch is already durable; the finding uid is the message id, so the stream drops the copy a
 * redelivered event would publish again (within its duplicate window).
 */
export class SubjectSink implements Sink {
  readonly name = 'subject';
  constructor(
    private readonly js: JetStreamClient,
    private readonly subject: string,
  ) {}

  async write(batch: OutputBatch): Promise<void> {
    await Promise.all(
      batch.findings.map((f) =>
        this.js.publish(this.subject, JSON.stringify(f), { msgID: f.finding_info.uid }),
      ),
    );
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
