// Ingest benchmark: events/s to read, parse, check and encode N generated OCSF events from
// JSONL and Parquet with a fitted feature spec, and the process's peak RSS.
// Run: npx tsx scripts/bench/ingest.ts [--events N] [--formats jsonl,parquet] [--json]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGenerated } from '../../src/data/generate-writer.ts';
import { streamEvents } from '../../src/dataset/load.node.ts';
import { encodeRecord, type FittedSpec, fitSpec, numNumericalFeatures } from '../../src/features/spec.ts';

/** Options for {@link benchIngest}. */
export interface IngestBenchOptions {
  /** Events to generate and ingest per format (default 100000). */
  events?: number;
  /** Formats to measure (default both). */
  formats?: ('jsonl' | 'parquet')[];
  /** Events used to fit the spec (default 10000). */
  fitSample?: number;
  /** Generator seed (default 1). */
  seed?: number;
  /** Work folder (default a fresh temporary folder, removed afterwards). */
  dir?: string;
}

/** One format's measurement. */
export interface IngestFormatResult {
  format: 'jsonl' | 'parquet';
  events: number;
  fileBytes: number;
  /** Read + parse + checks only. */
  readSeconds: number;
  readEventsPerSecond: number;
  /** Read + parse + checks + encode into float32/int32 rows. */
  ingestSeconds: number;
  ingestEventsPerSecond: number;
  rejected: number;
  /** Largest resident set size seen while ingesting this format, MiB (sampled every 4096 events). */
  ingestRssMiB: number;
}

/** What {@link benchIngest} measured. */
export interface IngestBenchResult {
  events: number;
  numNumerical: number;
  numCategorical: number;
  fitSeconds: number;
  formats: IngestFormatResult[];
  /** Peak resident set size of this process (generation included), MiB. */
  peakRssMiB: number;
  node: string;
}

async function timeRead(path: string, onRecord?: (r: object) => void) {
  const t0 = performance.now();
  let n = 0;
  let rss = process.memoryUsage.rss();
  const summary = await streamEvents([path], { checkTypes: true }, (r) => {
    n++;
    onRecord?.(r);
    if ((n & 4095) === 0) rss = Math.max(rss, process.memoryUsage.rss());
    return true;
  });
  return {
    seconds: (performance.now() - t0) / 1000,
    n,
    rejected: summary.rejected,
    rssMiB: Math.round(rss / 1048576),
  };
}

/** Generates events, fits a spec, and times reading and encoding them from JSONL and Parquet. */
export async function benchIngest(opts: IngestBenchOptions = {}): Promise<IngestBenchResult> {
  const events = opts.events ?? 100_000;
  const formats = opts.formats ?? ['jsonl', 'parquet'];
  const seed = opts.seed ?? 1;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ocsf-bench-ingest-'));
  try {
    const files: Record<string, string> = {};
    for (const format of formats) {
      const out = join(dir, `events.${format}`);
      await writeGenerated({ events, seed, out, format, labels: join(dir, `labels-${format}.jsonl`) });
      files[format] = out;
    }
    const sample: object[] = [];
    const fitSample = opts.fitSample ?? 10_000;
    await streamEvents([files[formats[0]!]!], { limit: fitSample }, (r) => {
      sample.push(r);
      return true;
    });
    const tf = performance.now();
    const spec: FittedSpec = fitSpec(sample);
    const fitSeconds = (performance.now() - tf) / 1000;
    const fn = numNumericalFeatures(spec);
    const fc = spec.categorical.length;
    const chunk = 4096;
    const num = new Float32Array(chunk * fn);
    const cat = new Int32Array(chunk * fc);

    const results: IngestFormatResult[] = [];
    for (const format of formats) {
      const path = files[format]!;
      const read = await timeRead(path);
      let row = 0;
      const ingest = await timeRead(path, (r) => {
        encodeRecord(spec, r, num, row * fn, cat, row * fc);
        row = row + 1 === chunk ? 0 : row + 1;
      });
      results.push({
        format,
        events: ingest.n,
        fileBytes: statSync(path).size,
        readSeconds: read.seconds,
        readEventsPerSecond: Math.round(read.n / read.seconds),
        ingestSeconds: ingest.seconds,
        ingestEventsPerSecond: Math.round(ingest.n / ingest.seconds),
        rejected: ingest.rejected,
        ingestRssMiB: Math.max(read.rssMiB, ingest.rssMiB),
      });
    }
    return {
      events,
      numNumerical: fn,
      numCategorical: fc,
      fitSeconds,
      formats: results,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      node: process.version,
    };
  } finally {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const events = Number(arg('events') ?? 100_000);
  const formats = (arg('formats') ?? 'jsonl,parquet').split(',') as ('jsonl' | 'parquet')[];
  const r = await benchIngest({ events, formats });
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(
      `ingest of ${r.events} generated events (${r.numNumerical} numerical + ${r.numCategorical} categorical inputs), ${r.node}`,
    );
    for (const f of r.formats) {
      console.log(
        `  ${f.format.padEnd(7)} read ${f.readEventsPerSecond.toLocaleString('en-US')} ev/s, read+encode ${f.ingestEventsPerSecond.toLocaleString('en-US')} ev/s (${(f.fileBytes / 1048576).toFixed(1)} MiB file, RSS while ingesting ${f.ingestRssMiB} MiB, ${f.rejected} rejected)`,
      );
    }
    console.log(
      `  spec fit on the sample: ${r.fitSeconds.toFixed(2)} s; process peak RSS ${r.peakRssMiB} MiB`,
    );
  }
}
