// The benchmark's model configurations, timing plans and the analytic FLOP model shared by every section.
import type { GraphTarget, TrainingConfig } from '../../graphs/artifacts.ts';
import { REFERENCE_OBJECTIVE, resolveTrainingConfig } from '../../graphs/config.ts';

/** The benchmark runs its graphs on CPU providers only (onnxruntime-node's CPU, wasm): Concats and Splits whole. */
export const CPU_TARGET: GraphTarget = { maxNodeTensors: Number.POSITIVE_INFINITY };

/** Numerical columns of the tutorial's synthetic data. */
export const NUM_NUMERICAL = 50;
/** Categorical cardinalities of the tutorial's synthetic data. */
export const CARDINALITIES = [100, 50, 200, 1000];

/** The three model sizes the reference measures. */
export type ConfigName = 'small' | 'base' | 'large';
export const CONFIG_NAMES: readonly ConfigName[] = ['small', 'base', 'large'];

/** One model size: width, depth and training batch. */
export interface ModelSize {
  name: ConfigName;
  dModel: number;
  numBlocks: number;
  batch: number;
}

const FULL_SIZES: Record<ConfigName, ModelSize> = {
  small: { name: 'small', dModel: 64, numBlocks: 2, batch: 256 },
  base: { name: 'base', dModel: 256, numBlocks: 6, batch: 256 },
  large: { name: 'large', dModel: 512, numBlocks: 8, batch: 256 },
};

const QUICK_SIZES: Record<ConfigName, ModelSize> = {
  small: { name: 'small', dModel: 16, numBlocks: 1, batch: 16 },
  base: { name: 'base', dModel: 32, numBlocks: 1, batch: 32 },
  large: { name: 'large', dModel: 32, numBlocks: 2, batch: 32 },
};

/** The model size for `name` in full or quick mode. */
export function modelSize(name: ConfigName, quick: boolean): ModelSize {
  return (quick ? QUICK_SIZES : FULL_SIZES)[name];
}

/** The contrastive training config of a model size (dropout 0.1, uniform category swaps, no [MASK] id). */
export function trainingConfig(size: ModelSize): TrainingConfig {
  return resolveTrainingConfig({
    model: {
      numNumerical: NUM_NUMERICAL,
      cardinalities: CARDINALITIES,
      dModel: size.dModel,
      numBlocks: size.numBlocks,
      dropout: 0.1,
    },
    objective: { kind: 'contrastive', ...REFERENCE_OBJECTIVE },
  });
}

/** How many steps are run untimed, and how the timed ones are grouped. */
export interface TimingPlan {
  warmupSteps: number;
  repetitions: number;
  stepsPerRepetition: number;
}

/** Timing plan of the training section. */
export function trainPlan(quick: boolean): TimingPlan {
  return quick
    ? { warmupSteps: 1, repetitions: 1, stepsPerRepetition: 2 }
    : { warmupSteps: 3, repetitions: 5, stepsPerRepetition: 10 };
}

/** Multiply-accumulates per row of one forward pass, GEMMs only (the reference's `forward_macs_part2`). */
export function forwardMacs(
  size: ModelSize,
  numNumerical = NUM_NUMERICAL,
  numCategorical = CARDINALITIES.length,
) {
  const d = size.dModel;
  const numericalProjection = numNumerical * (d / 2);
  const initialProjection = ((d / 4) * numCategorical + d / 2) * d;
  const blocks = size.numBlocks * 2 * d * d;
  return {
    numericalProjection,
    initialProjection,
    blocks,
    total: numericalProjection + initialProjection + blocks,
  };
}

/**
 * Training FLOPs per sample, the reference's `train_flops_per_sample` convention: 2 views × 3 (forward and
 * backward) × 2·MACs, plus the (2B × d)·(d × 2B) similarity matmul spread over the batch (3 × 2 × 4·B·d).
 */
export function trainFlopsPerSample(size: ModelSize) {
  const model = 2 * 3 * 2 * forwardMacs(size).total;
  const similarityMatmul = 3 * 2 * 4 * size.batch * size.dModel;
  return { model, similarityMatmul, total: model + similarityMatmul };
}
