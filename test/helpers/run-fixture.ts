// Real runs and the command line for tests: run `ocsf-embed`, check that a failure is one line, generate
// synthetic events, and train a tiny real run (one epoch of a d-model 16, one-block model) in a
// temporary directory.
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The command-line entry. */
export const CLI = join(import.meta.dirname, '..', '..', 'bin', 'ocsf-embed.js');

/** Runs `ocsf-embed <args>` and returns its exit status and output. */
export function cli(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

/** `train` flags for a tiny model on the CPU: one block, d-model 16 and batch size 64 unless given. */
export function tinyModel(o: { dModel?: number; batchSize?: number } = {}): string[] {
  const dModel = String(o.dModel ?? 16);
  return ['--d-model', dModel, '--blocks', '1', '--batch-size', String(o.batchSize ?? 64), '--device', 'cpu'];
}

/**
 * Asserts a failed command exited `status` (default 2) with one `ocsf-embed:` line on stderr (load
 * summaries such as `ocsf-embed: read …` aside), no stack trace and no internal error; with `pattern`, that
 * the line matches it.
 */
export function assertOneLine(
  r: { status: number | null; stderr: string },
  pattern?: RegExp,
  status = 2,
): void {
  assert.equal(r.status, status, r.stderr);
  const lines = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('ocsf-embed:') && !l.startsWith('ocsf-embed: read '));
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, r.stderr);
  if (pattern) assert.match(lines[0]!, pattern);
}

/** Writes `events` synthetic events to `path` (JSONL or Parquet, by extension); the same seed gives the same events. */
export function generateEvents(path: string, events: number, seed: number, labelsPath?: string): void {
  const g = cli(
    'generate',
    '--events',
    String(events),
    '--seed',
    String(seed),
    '--out',
    path,
    ...(labelsPath ? ['--labels', labelsPath] : []),
    '--quiet',
  );
  assert.equal(g.status, 0, g.stderr);
}

/** The records of a JSONL file. */
export function readJsonl<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Where a tiny run lives. */
export interface RunFixture {
  /** Temporary folder holding everything; remove with `cleanup`. */
  dir: string;
  /** The run directory (`model.onnx`, `reference.safetensors`, `scorer.json`, checkpoints, report). */
  runDir: string;
  /** The events it trained on (JSONL). */
  eventsPath: string;
  /** Their labels (JSONL). */
  labelsPath: string;
  /** The events, parsed, in file order. */
  events: Record<string, unknown>[];
  cleanup(): void;
}

/** What tiny run to make; every field has a default. */
export interface RunFixtureOptions {
  /** Temporary folder name prefix (default `ocsf-embed-cli-`). */
  prefix?: string;
  /** Synthetic events to generate and train on (default 1500). */
  events?: number;
  /** Generator seed (default 5). */
  seed?: number;
  /** Training batch size (default 64). */
  batchSize?: number;
}

/** Generates labelled synthetic events and trains a tiny run on them through the CLI (a few seconds). */
export function makeRunFixture(options: RunFixtureOptions = {}): RunFixture {
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'ocsf-embed-cli-'));
  const eventsPath = join(dir, 'events.jsonl');
  const labelsPath = join(dir, 'labels.jsonl');
  const runDir = join(dir, 'run');
  generateEvents(eventsPath, options.events ?? 1500, options.seed ?? 5, labelsPath);
  const t = cli(
    'train',
    eventsPath,
    '--out',
    runDir,
    '--epochs',
    '1',
    ...tinyModel({ batchSize: options.batchSize }),
  );
  assert.equal(t.status, 0, t.stderr);
  return {
    dir,
    runDir,
    eventsPath,
    labelsPath,
    events: readJsonl(eventsPath),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The metadata.uid of an event. */
export function uidOf(event: Record<string, unknown>): string {
  return (event.metadata as { uid: string }).uid;
}
