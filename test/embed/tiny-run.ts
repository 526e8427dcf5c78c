// A tiny real training run for tests: synthetic OCSF events and a one-epoch model in a temp directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where a tiny run lives. */
export interface TinyRun {
  dir: string;
  /** The run directory (`model.onnx`, `reference.safetensors`, `scorer.json`, checkpoints). */
  runDir: string;
  /** The events it trained on (JSONL). */
  eventsPath: string;
  /** Those events, parsed. */
  events: object[];
}

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'ocsf-embed.js');

function cli(args: string[]): void {
  execFileSync(process.execPath, [CLI, ...args], { stdio: 'pipe' });
}

/** Writes `events` synthetic events to `path` (JSONL or Parquet, by extension); the same seed gives the same events. */
export function generateEvents(path: string, events: number, seed: number): void {
  cli(['generate', '--events', String(events), '--seed', String(seed), '--out', path, '--quiet']);
}

/** Events of a JSONL file. */
export function readJsonl(path: string): object[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as object);
}

/** Generates `events` synthetic events and trains one epoch of a small model on them (a few seconds). */
export function makeTinyRun(events = 1000, seed = 3): TinyRun {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-embed-run-'));
  const eventsPath = join(dir, 'events.jsonl');
  const runDir = join(dir, 'run');
  generateEvents(eventsPath, events, seed);
  cli(
    ['train', eventsPath, '--out', runDir, '--epochs', '1', '--d-model', '16', '--blocks', '1'].concat([
      '--batch-size',
      '128',
      '--device',
      'cpu',
    ]),
  );
  return { dir, runDir, eventsPath, events: readJsonl(eventsPath) };
}
