// The data side of a training run, portable (CLI and browser alike): split the events, fit the
// feature spec on the training split, drop events the spec cannot encode, encode both splits; the
// batch size that fits, and model.onnx from a checkpoint.
import type { TrainingConfig } from '../../graphs/config.ts';
import { type EncodedDataset, encodeDataset, splitTrainVal, subsetDataset } from '../dataset/dataset.ts';
import { buildInferenceModel } from '../embed/export.ts';
import { buildReconstructionModel, hasReconstructionHeads } from '../embed/reconstruction.ts';
import { checkRecord } from '../features/encode.ts';
import { fitSpec } from '../features/fit.ts';
import type { SpecOptions } from '../features/options.ts';
import type { FittedSpec } from '../features/types.ts';
import type { Checkpoint } from '../run/checkpoint.ts';

/** The CLI's default share of events held out for validation (`--val-split`). */
export const DEFAULT_VAL_FRACTION = 0.1;

/** Events split, spec fitted, both splits encoded. */
export interface PreparedData {
  spec: FittedSpec;
  /** The events kept (those the spec can encode), in input order. */
  records: object[];
  train: EncodedDataset;
  val: EncodedDataset | null;
  /** Rows of `records` in each split. */
  trainIndices: Uint32Array;
  valIndices: Uint32Array;
}

/**
 * Splits `records` (seeded), fits a spec on the training split unless `spec` is given, lets `dropUnfit`
 * remove the events the spec cannot encode (default: drop them silently; the CLI writes them to its
 * rejects file), splits again if any went, and encodes both splits.
 */
export function prepareRecords(
  records: object[],
  o: {
    valFraction: number;
    seed: number;
    spec?: FittedSpec | null;
    specOptions?: SpecOptions;
    dropUnfit?: (records: object[], spec: FittedSpec) => object[];
  },
): PreparedData {
  const split = splitTrainVal(records.length, o.valFraction, o.seed);
  const spec =
    o.spec ??
    fitSpec(
      Array.from(split.train, (i) => records[i]!),
      o.specOptions,
    );
  const kept = (o.dropUnfit ?? ((rs, s) => rs.filter((r) => !checkRecord(s, r))))(records, spec);
  const resplit = kept.length === records.length ? split : splitTrainVal(kept.length, o.valFraction, o.seed);
  const all = encodeDataset(spec, kept);
  return {
    spec,
    records: kept,
    train: subsetDataset(all, resplit.train),
    val: resplit.val.length ? subsetDataset(all, resplit.val) : null,
    trainIndices: resplit.train,
    valIndices: resplit.val,
  };
}

/**
 * The batch size for `trainRows` training rows: `batchSize`, or the largest power of two that fits
 * (with a note) when there are fewer rows. Null when fewer than 2 rows.
 */
export function fittingBatchSize(
  trainRows: number,
  batchSize: number,
): { batchSize: number; note?: string } | null {
  if (trainRows >= batchSize) return { batchSize };
  if (trainRows < 2) return null;
  const fitted = 2 ** Math.floor(Math.log2(trainRows));
  return {
    batchSize: fitted,
    note: `the batch size is lowered to ${fitted} to fit ${trainRows} training rows`,
  };
}

/** model.onnx bytes for a checkpoint of a run. */
export function exportModel(
  spec: FittedSpec,
  config: TrainingConfig,
  c: Checkpoint,
  info: Record<string, unknown> = {},
): Uint8Array {
  const weights = new Map([...c.state].filter(([k]) => !k.startsWith('mfp_heads.')));
  return buildInferenceModel(spec, config.model, weights, {
    ...info,
    objective: config.objective.kind,
    step: c.position.step,
    bestValLoss: c.position.best?.valLoss ?? null,
  });
}

/**
 * reconstruction.onnx bytes for a checkpoint of a run whose objective trained the MFP heads; null for
 * one that did not (contrastive).
 */
export function exportReconstruction(
  spec: FittedSpec,
  config: TrainingConfig,
  c: Checkpoint,
): Uint8Array | null {
  if (!hasReconstructionHeads(c.state)) return null;
  return buildReconstructionModel(spec, config.model, c.state);
}
