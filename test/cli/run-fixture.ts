// A tiny real run for the CLI and service tests: 1500 synthetic events with labels, one epoch of a
// d-model 16, one-block model trained through the CLI in a temporary directory.
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

/** Where the tiny run lives. */
export interface RunFixture {
  /** Temporary folder holding everything; remove with `cleanup`. */
  dir: string;
  runDir: string;
  eventsPath: string;
  labelsPath: string;
  /** The events, parsed, in file order. */
  events: Record<string, unknown>[];
  cleanup(): void;
}

/** Generates the events and trains the run (a few seconds). */
export function makeRunFixture(prefix = 'ocsf-embed-cli-'): RunFixture {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const eventsPath = join(dir, 'events.jsonl');
  const labelsPath = join(dir, 'labels.jsonl');
  const runDir = join(dir, 'run');
  const g = cli(
    'generate',
    '--events',
    '1500',
    '--seed',
    '5',
    '--out',
    eventsPath,
    '--labels',
    labelsPath,
    '--quiet',
  );
  assert.equal(g.status, 0, g.stderr);
  const t = cli(
    'train',
    eventsPath,
    '--out',
    runDir,
    '--epochs',
    '1',
    '--d-model',
    '16',
    '--blocks',
    '1',
    '--batch-size',
    '64',
    '--device',
    'cpu',
  );
  assert.equal(t.status, 0, t.stderr);
  const events = readFileSync(eventsPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    dir,
    runDir,
    eventsPath,
    labelsPath,
    events,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The metadata.uid of an event. */
export function uidOf(event: Record<string, unknown>): string {
  return (event.metadata as { uid: string }).uid;
}
