// Reading labels files: JSONL with one {"uid", "is_anomaly"} per line, as `ocsf-embed generate` writes them.
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.ts';

/** uid → is_anomaly from a labels JSONL file. */
export function readLabels(path: string): Map<string, boolean> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`cannot read the labels file ${path}: check the path`);
  }
  const labels = new Map<string, boolean>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let row: { uid?: unknown; is_anomaly?: unknown };
    try {
      row = JSON.parse(line);
    } catch {
      throw new UserError(
        `${path}:${i + 1} is not JSON; a labels file has one {"uid": …, "is_anomaly": true|false} per line`,
      );
    }
    if (typeof row.uid !== 'string' || typeof row.is_anomaly !== 'boolean') {
      throw new UserError(`${path}:${i + 1} needs "uid" (string) and "is_anomaly" (true/false)`);
    }
    labels.set(row.uid, row.is_anomaly);
  });
  return labels;
}
