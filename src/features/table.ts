// The fitted spec as a plain-text table: chosen inputs with their transforms and statistics,
// then the dropped paths with the reason for each.
import { indicatorColumns, numNumericalFeatures } from './encode.ts';
import type { CategoricalFeature, FittedSpec, NumericalFeature } from './types.ts';

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

function num(x: number | null): string {
  if (x === null) return '-';
  if (x !== 0 && (Math.abs(x) >= 1e6 || Math.abs(x) < 1e-3)) return x.toExponential(3);
  return String(Number(x.toPrecision(5)));
}

function grid(header: string[], rows: string[][], right: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function catTransform(c: CategoricalFeature): string {
  const t = c.source.kind === 'time' ? `time ${c.source.part}` : c.source.kind;
  return c.hashBuckets > 0 ? `${t}, hash ${c.hashBuckets}` : t;
}

function numTransform(n: NumericalFeature): string {
  const s = n.source;
  const t = s.kind === 'value' ? 'value' : s.kind === 'time' ? `time ${s.part}` : 'derived';
  return n.log1p ? `${t}, log1p` : t;
}

/** One line on the spec: how many columns of each kind, and what it was fitted on. */
export function specSummary(spec: FittedSpec): string {
  return (
    `Feature spec: ${spec.categorical.length} categorical, ${spec.numerical.length} numerical ` +
    `+ ${indicatorColumns(spec).length} missing indicators = ${numNumericalFeatures(spec)} numerical inputs; ` +
    `fitted on ${spec.rows} rows (columns chosen from ${spec.sampleRows}); time zone ${spec.timeZone}`
  );
}

/** The spec as a text table (what `ocsf-embed features` prints), headed by {@link specSummary}. */
export function specTable(spec: FittedSpec): string {
  const rows = spec.rows;
  const out: string[] = [];
  out.push(specSummary(spec));
  out.push('');
  out.push('Categorical (ids: 0 MISSING, 1 UNKNOWN, 2.. vocabulary, last MASK)');
  out.push(
    grid(
      ['#', 'feature', 'transform', 'vocab', 'cardinality', 'distinct', 'missing', 'in vocab'],
      spec.categorical.map((c, i) => [
        String(i),
        c.name,
        catTransform(c),
        String(c.vocabulary.length),
        String(c.vocabulary.length + 3),
        String(c.stats.distinct),
        pct(c.stats.missing, rows),
        pct(c.stats.covered, rows - c.stats.missing),
      ]),
      new Set([0, 3, 4, 5, 6, 7]),
    ),
  );
  out.push('');
  out.push('Numerical (scaled (x - mean) / std; missing -> mean, plus an indicator where marked)');
  out.push(
    grid(
      ['#', 'feature', 'transform', 'mean', 'std', 'min', 'max', 'missing', 'invalid', 'indicator'],
      spec.numerical.map((n, i) => [
        String(i),
        n.name,
        numTransform(n),
        num(n.mean),
        num(n.stats.fittedStd),
        num(n.stats.min),
        num(n.stats.max),
        pct(n.stats.missing, rows),
        String(n.stats.invalid),
        n.indicator ? 'yes' : '',
      ]),
      new Set([0, 3, 4, 5, 6, 7, 8]),
    ),
  );
  if (spec.dropped.length > 0) {
    out.push('');
    out.push('Dropped');
    out.push(
      grid(
        ['path', 'reason'],
        spec.dropped.map((d) => [d.name, d.reason]),
        new Set(),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}
