// The feature spec's public face: fit, serialise, inspect and encode OCSF events (portable:
// runs unchanged in Node and the browser).
import { UserError } from '../core/errors.ts';
import type { FittedSpec } from './types.ts';

export { canonicalCategory, fnv1a32, hashBucketKey, toNumber } from './canonical.ts';
export { DEFAULT_PORTS, DERIVED, type DerivedName } from './derived.ts';
export {
  categoricalColumns,
  checkRecord,
  encodeRaw,
  encodeRecord,
  extractRaw,
  indicatorColumns,
  maskId,
  numericalColumns,
  numericalFeatureNames,
  numNumericalFeatures,
  type RecordProblem,
  rawCategorical,
  rawNumerical,
  specSourcePaths,
} from './encode.ts';
export { fitSpec, SpecFitter } from './fit.ts';
export { type ColumnOverride, parseSpecOptions, type SpecOptions } from './options.ts';
export { specSummary, specTable } from './table.ts';
export { logTemplate, urlTemplate } from './template.ts';
export { TIME_PARTS, type TimePart, timePart } from './time.ts';
export {
  type CategoricalFeature,
  type CategoricalSource,
  type FittedSpec,
  MISSING_ID,
  type NumericalFeature,
  type NumericalSource,
  type RawFeatures,
  UNKNOWN_ID,
  VOCAB_OFFSET,
} from './types.ts';

/** The spec as JSON text (2-space indented); {@link parseSpec} reads it back exactly. */
export function serializeSpec(spec: FittedSpec): string {
  return `${JSON.stringify(spec, null, 2)}\n`;
}

/** Reads a spec from JSON text or a parsed object; throws an {@link UserError} when it is not one. */
export function parseSpec(json: string | unknown): FittedSpec {
  let o: unknown = json;
  if (typeof json === 'string') {
    try {
      o = JSON.parse(json);
    } catch (e) {
      throw new UserError(
        `The feature spec is not valid JSON (${(e as Error).message}): pass a spec.json written by \`ocsf-embed features --out\`.`,
      );
    }
  }
  const s = o as Partial<FittedSpec> | null;
  if (
    !s ||
    typeof s !== 'object' ||
    s.version !== 1 ||
    !Array.isArray(s.categorical) ||
    !Array.isArray(s.numerical)
  ) {
    throw new UserError(
      'This is not a fitted feature spec (version 1 with categorical and numerical lists): pass a spec.json written by `ocsf-embed features --out`; an overrides file goes to --spec.',
    );
  }
  return s as FittedSpec;
}
