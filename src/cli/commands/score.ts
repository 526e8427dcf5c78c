// `ocsf-embed score`: streams events through a run's model and scorer in batches and writes one row per
// event (uid, score, threshold, is_anomaly, nearest reference events) as JSON lines, CSV or Parquet, and
// optionally each flagged event as an OCSF Detection Finding.
import { existsSync, unlinkSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { UserError } from '../../core/errors.ts';
import { checkOutputsApart, formatLoadSummary, streamEventChunks } from '../../dataset/load.node.ts';
import { findingContextOf } from '../../detect/findings.node.ts';
import { buildFinding } from '../../detect/findings.ts';
import { scoresAreRanks } from '../../detect/scorer.ts';
import { openScoreWriter, SCORE_FORMATS, type ScoreFormat, TextFile } from '../../io/writers.node.ts';
import { LoadedModel, scoreRows } from '../../run/model.node.ts';
import type { Device } from '../../runtime/session.node.ts';
import {
  BATCH_OPTIONS,
  checkThresholdPercentile,
  EVENTS_POSITIONAL,
  SHARED_OPTIONS,
  THRESHOLD_OPTIONS,
} from '../options.ts';
import {
  checkBatchArgs,
  checkOutPath,
  checkStdout,
  outputFormat,
  rejectsPathFor,
  summaryPrinter,
} from './embed.ts';

/** Parsed arguments of `ocsf-embed score`. */
export interface ScoreArgs {
  inputs: string[];
  model?: string;
  out?: string;
  format?: ScoreFormat;
  'batch-size': number;
  device: Device;
  threads?: number;
  rejects?: string;
  findings?: string;
  quiet: boolean;
  json: boolean;
  'max-reject-fraction': number;
  'threshold-percentile'?: number;
}

/** What `scoreFiles` did. */
export interface ScoreSummary {
  events: number;
  flagged: number;
  rejected: number;
  /** Findings written to --findings (one per flagged event). */
  findings: number;
  threshold: number;
  method: string;
  seconds: number;
  rejectsPath: string | null;
}

/** Checks every flag; each error says what to type instead. */
export function checkScoreArgs(a: ScoreArgs): ScoreFormat {
  if (a.inputs.length === 0)
    throw new UserError(
      'name the events to score, e.g. `ocsf-embed score events.jsonl --model runs/first --out scores.jsonl`',
    );
  if (!a.model) throw new UserError('give the run to score against with --model, e.g. --model runs/first');
  if (!a.out)
    throw new UserError('give the output file with --out, e.g. --out scores.jsonl (or .csv, .parquet)');
  checkBatchArgs(a);
  checkThresholdPercentile(a['threshold-percentile']);
  const format = outputFormat(a, SCORE_FORMATS);
  checkStdout(a, format, ['jsonl', 'csv']);
  checkOutPath('--out', a.out, `scores.${format}`);
  if (a.findings !== undefined) {
    if (!/\.(jsonl|ndjson)$/i.test(a.findings))
      throw new UserError(
        `--findings writes OCSF Detection Findings as JSON lines: name it .jsonl, e.g. --findings findings.jsonl`,
      );
    checkOutPath('--findings', a.findings, 'findings.jsonl');
  }
  return format;
}

export const scoreCommand: CommandModule<object, ScoreArgs> = {
  command: 'score [inputs..]',
  describe: "Score OCSF events for anomalies against a run's reference events; writes JSONL, CSV or Parquet",
  builder: (y) =>
    y
      .positional('inputs', EVENTS_POSITIONAL)
      .options({
        model: {
          ...SHARED_OPTIONS.model,
          describe: 'run directory (model.onnx, reference embeddings, scorer)',
        },
        out: {
          ...SHARED_OPTIONS.out,
          describe:
            'output file: .jsonl, .csv or .parquet (- for JSON lines, or CSV with --format csv, on stdout)',
        },
        format: { choices: SCORE_FORMATS, describe: 'output format (default: from the --out extension)' },
        findings: {
          type: 'string',
          describe:
            'also write each flagged event as an OCSF Detection Finding (class 2004) to this .jsonl file',
        },
        ...BATCH_OPTIONS,
        ...THRESHOLD_OPTIONS,
      })
      .example('$0 score today.jsonl --model runs/first --out scores.jsonl', 'one JSON row per event')
      .example('$0 score logs/*.parquet --model runs/first --out scores.parquet', 'Parquet for analysis')
      .example('$0 score today.jsonl -m runs/first -o - | jq -c "select(.is_anomaly)"', 'rows on stdout')
      .example(
        '$0 score today.jsonl --model runs/first --out scores.jsonl --findings findings.jsonl',
        'flagged events as OCSF Detection Findings too',
      )
      .check((a) => {
        checkScoreArgs(a as unknown as ScoreArgs);
        return true;
      }),
  handler: async (a) => {
    const format = checkScoreArgs(a);
    const s = await scoreFiles(a, format);
    const pct = s.events ? ((100 * s.flagged) / s.events).toFixed(2) : '0';
    summaryPrinter(a)(
      `scored ${s.events} events in ${s.seconds.toFixed(1)} s (${Math.round(s.events / Math.max(s.seconds, 1e-9))} events/s): ${s.flagged} flagged (${pct}%) above the threshold ${s.threshold.toFixed(4)} (${s.method}${scoresAreRanks(s.method) ? '; a score is a rank among the training events, above 1 beyond all of them' : ''})${s.rejected ? `; ${s.rejected} rejected → ${s.rejectsPath}` : ''} → ${a.out}${a.findings ? `; ${s.findings} findings → ${a.findings}` : ''}`,
    );
    if (a.json) console.log(JSON.stringify({ ...s, out: a.out }));
  },
};

/** Scores the input files against the run and writes the rows; prints the load summary unless quiet. */
export async function scoreFiles(a: ScoreArgs, format: ScoreFormat): Promise<ScoreSummary> {
  const out = a.out!;
  const t0 = performance.now();
  const rejectsPath = rejectsPathFor(out, a.rejects);
  await checkOutputsApart(a.inputs, [
    ['--out', out],
    ['--rejects', rejectsPath],
    ['--findings', a.findings],
  ]);
  const model = await LoadedModel.open(a.model!, {
    device: a.device,
    threads: a.threads,
    requireScorer: true,
    thresholdPercentile: a['threshold-percentile'],
  });
  if (model.notice && !a.quiet) console.error(`note: ${model.notice}`);
  const scorer = model.scoring!.scorer;
  const writer = openScoreWriter(out, format, {
    'ocsf-embed.run': model.location.runDir ?? '',
    'ocsf-embed.method': scorer.method,
    'ocsf-embed.threshold': String(scorer.threshold),
  });
  let findings: { file: TextFile; ctx: ReturnType<typeof findingContextOf> } | null = null;
  let flagged = 0;
  let rowsSeen = 0;
  let warned = false;
  let summary: Awaited<ReturnType<typeof streamEventChunks>>;
  try {
    findings = a.findings
      ? {
          file: new TextFile(a.findings),
          ctx: findingContextOf(model.location.modelPath, model.location.runDir, scorer),
        }
      : null;
    summary = await streamEventChunks(
      a.inputs,
      {
        size: a['batch-size'],
        rejectsPath,
        spec: model.embedder.spec,
        maxRejectFraction: a['max-reject-fraction'],
      },
      async (events) => {
        const scored = await model.score(events, rowsSeen);
        rowsSeen += events.length;
        if (scored.coverage?.warning && !warned) {
          warned = true;
          console.error(`warning: ${scored.coverage.warning}`);
        }
        const rows = scoreRows(scored);
        const now = Date.now();
        const lines: string[] = [];
        rows.forEach((r, i) => {
          if (!r.is_anomaly) return;
          flagged++;
          if (findings) lines.push(JSON.stringify(buildFinding(events[i]!, r, findings.ctx, now)));
        });
        await writer.write(rows);
        if (findings && lines.length > 0) findings.file.write(`${lines.join('\n')}\n`);
      },
    );
    await writer.close();
    findings?.file.close();
  } catch (e) {
    await writer.abort();
    findings?.file.abort();
    throw e;
  } finally {
    await model.release();
  }
  const kept = summary.rejected > 0 || Boolean(a.rejects);
  if (!kept && existsSync(rejectsPath)) unlinkSync(rejectsPath);
  summaryPrinter(a)(formatLoadSummary(summary));
  return {
    events: summary.accepted,
    flagged,
    rejected: summary.rejected,
    findings: findings ? flagged : 0,
    threshold: scorer.threshold,
    method: scorer.method,
    seconds: (performance.now() - t0) / 1000,
    rejectsPath: kept ? rejectsPath : null,
  };
}
