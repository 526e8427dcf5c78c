// The finding context of a run on disk: the model's content id (SHA-256 of model.onnx), the ocsf-embed
// version, the scoring method and the reference scores that set severities.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { type FindingContext, findingContext } from './findings.ts';
import type { FittedScorer } from './scorer.ts';

function packageVersion(): string {
  return (createRequire(import.meta.url)('ocsf-embed/package.json') as { version: string }).version;
}

/** The finding context of the model at `modelPath` scored by `scorer` (run directory `runDir`). */
export function findingContextOf(
  modelPath: string,
  runDir: string | null,
  scorer: FittedScorer,
): FindingContext {
  const id = createHash('sha256').update(readFileSync(modelPath)).digest('hex').slice(0, 16);
  return findingContext(
    { id, version: packageVersion(), method: scorer.method, run: basename(runDir ?? dirname(modelPath)) },
    scorer.referenceScores,
  );
}
