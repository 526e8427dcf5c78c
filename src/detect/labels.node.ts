// Reading labels files: one {uid, is_anomaly, scenario?} record per event, in any format `ocsf-embed
// generate` writes them (JSONL, gzipped JSONL, Parquet) or the event readers take (JSON, Arrow).
import { UserError } from '../core/errors.ts';
import { readEvents } from '../data/readers.node.ts';

const SHAPE = 'a labels file has one {"uid": …, "is_anomaly": true|false} record per event';

/** uid → is_anomaly from a labels file (.jsonl[.gz], .json, .parquet, .arrow). */
export async function readLabels(path: string): Promise<Map<string, boolean>> {
  return (await readLabelsFile(path)).labels;
}

/** uid → is_anomaly, and uid → scenario for the anomalies that name one, from a labels file. */
export async function readLabelsFile(
  path: string,
): Promise<{ labels: Map<string, boolean>; scenarios: Map<string, string> }> {
  const labels = new Map<string, boolean>();
  const scenarios = new Map<string, string>();
  try {
    for await (const { record, source } of readEvents([path], {
      onReject: (r) => {
        throw new UserError(
          `${path}${r.line !== undefined ? `:${r.line}` : ` row ${r.row}`} cannot be read (${r.detail}); ${SHAPE}`,
        );
      },
    })) {
      const row = record as { uid?: unknown; is_anomaly?: unknown; scenario?: unknown };
      if (typeof row.uid !== 'string' || typeof row.is_anomaly !== 'boolean') {
        const where = source.line !== undefined ? `:${source.line}` : ` row ${source.row}`;
        throw new UserError(`${path}${where} needs "uid" (string) and "is_anomaly" (true/false); ${SHAPE}`);
      }
      labels.set(row.uid, row.is_anomaly);
      if (row.is_anomaly && typeof row.scenario === 'string' && row.scenario)
        scenarios.set(row.uid, row.scenario);
    }
  } catch (e) {
    if (e instanceof UserError && / does not exist|No files match/.test(e.message))
      throw new UserError(`cannot read the labels file ${path}: check the path`);
    throw e;
  }
  return { labels, scenarios };
}
