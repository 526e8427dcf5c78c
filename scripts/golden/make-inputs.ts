// Writes the inputs of the PyTorch parity fixtures: small configs, initial weights, a batch, MFP masks.
// Run `npm run golden` to regenerate inputs and (with python3-torch installed) the expected outputs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainingSpecs } from '../../graphs/artifacts.ts';
import { resolveTrainingConfig } from '../../graphs/config.ts';
import { initialState } from '../../graphs/nn/params.ts';
import type { TensorData } from '../../graphs/onnx/builder.ts';
import { keyOf, normalOf, uniformOf } from '../../graphs/rng.ts';
import { encodeSafetensors } from '../../src/io/safetensors.ts';

export const GOLDEN_DIR = 'test/fixtures/golden';
const MODEL = { numNumerical: 5, cardinalities: [7, 3, 11], dModel: 16, numBlocks: 2, dropout: 0 };
const BATCH = 8;
const LR = 1e-3;

/** The parity cases: objective settings with randomness off (MFP masks are inputs). */
export const GOLDEN_CASES: Record<string, unknown> = {
  contrastive: {
    model: MODEL,
    objective: { kind: 'contrastive', noiseLevel: 0, swapProb: 0, temperature: 0.5 },
  },
  mfp: {
    model: MODEL,
    objective: { kind: 'mfp', maskInputs: true, numericalWeight: 0.5 },
    optimizer: { decay: 'matrices' },
  },
  both: {
    model: MODEL,
    objective: {
      kind: 'both',
      noiseLevel: 0,
      swapProb: 0,
      maskInputs: true,
      mfpWeight: 0.5,
      temperature: 0.5,
    },
    optimizer: { clipNorm: 0.5 },
  },
};

function main(): void {
  Object.entries(GOLDEN_CASES).forEach(([name, json], caseIndex) => {
    const config = resolveTrainingConfig(json);
    const dir = join(GOLDEN_DIR, name);
    mkdirSync(dir, { recursive: true });
    const tensors = new Map<string, TensorData>(initialState(trainingSpecs(config), 1000 + caseIndex));
    const num = normalOf(keyOf(7, caseIndex, 1), BATCH * MODEL.numNumerical);
    tensors.set('batch.numerical', {
      dtype: 'float32',
      dims: [BATCH, MODEL.numNumerical],
      data: Float32Array.from(num),
    });
    const u = uniformOf(keyOf(7, caseIndex, 2), BATCH * MODEL.cardinalities.length);
    const ids = BigInt64Array.from(u, (x, i) => BigInt(Math.floor(x * (MODEL.cardinalities[i % 3]! - 1))));
    tensors.set('batch.categorical', { dtype: 'int64', dims: [BATCH, 3], data: ids });
    const masks = uniformOf(keyOf(7, caseIndex, 3), BATCH * 8);
    tensors.set('batch.numerical_mask', {
      dtype: 'bool',
      dims: [BATCH, 5],
      data: Uint8Array.from({ length: BATCH * 5 }, (_, i) => (masks[i]! < 0.3 ? 1 : 0)),
    });
    tensors.set('batch.categorical_mask', {
      dtype: 'bool',
      dims: [BATCH, 3],
      // Row 0 is masked in every column, so every head receives a gradient.
      data: Uint8Array.from({ length: BATCH * 3 }, (_, i) => (i < 3 || masks[40 + i]! < 0.3 ? 1 : 0)),
    });
    writeFileSync(join(dir, 'inputs.safetensors'), encodeSafetensors(tensors));
    writeFileSync(join(dir, 'config.json'), `${JSON.stringify({ config, lr: LR, step: 1 }, null, 2)}\n`);
    console.log(`wrote ${dir}/inputs.safetensors`);
  });
}

main();
