// The TabularResNet encoder (reference Part 2): per-column embeddings and a numerical projection,
// an initial Linear + BatchNorm + ReLU, post-norm residual blocks, and a final LayerNorm.
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';
import { batchNorm } from '../nn/batch-norm.ts';
import { reluDropout, reluDropoutUnscaled } from '../nn/dropout.ts';
import { embeddings } from '../nn/embedding.ts';
import { layerNorm } from '../nn/layer-norm.ts';
import { linear } from '../nn/linear.ts';
import { linearInit } from '../nn/init.ts';
import type { Forward } from '../nn/params.ts';

/** The encoder's shape. */
export interface ModelConfig {
  /** Numerical input features per row (after indicators); may be 0. */
  numNumerical: number;
  /** Embedding table size per categorical column (reserved ids included); may be empty. */
  cardinalities: number[];
  /** Embedding width; divisible by 4. Default 256. */
  dModel: number;
  /** Residual blocks. Default 6. */
  numBlocks: number;
  /** Dropout probability in the blocks. Default 0.1. */
  dropout: number;
}

export const MODEL_DEFAULTS = { dModel: 256, numBlocks: 6, dropout: 0.1 } as const;

/** Width of the concatenated input to the initial projection. */
export function inputWidth(c: ModelConfig): number {
  return (c.dModel / 4) * c.cardinalities.length + c.dModel / 2;
}

/**
 * Builds one forward pass: numerical [batch, numNumerical] float, categorical [batch, columns]
 * int64 → embedding [batch, dModel]. Parameter names equal the PyTorch module's state_dict keys.
 */
export function tabularResNet(f: Forward, c: ModelConfig, numerical: Value | null, categorical: Value | null): Value {
  const { b } = f;
  const d = c.dModel;
  const parts: Value[] = [];
  if (c.cardinalities.length > 0) parts.push(embeddings(f, 'embeddings', categorical!, c.cardinalities, d / 4));
  if (c.numNumerical > 0) parts.push(linear(f, 'numerical_projection', numerical!, c.numNumerical, d / 2));
  else {
    // Linear(0 → d/2) is its bias alone, broadcast over the batch.
    const bias = b.scope('numerical_projection', () => f.params.get('bias', [d / 2], linearInit(0)));
    const rows = op.shape(categorical!, 0, 1);
    parts.push(b.op('Expand', [bias, op.concat([rows, b.ints([d / 2])], 0)], {}, { shape: [categorical!.shape![0]!, d / 2] }));
  }
  let x = op.concat(parts, 1);
  x = linear(f, 'initial_projection', x, inputWidth(c), d);
  x = op.relu(batchNorm(f, 'initial_bn', x, d, f.groups));
  for (let i = 0; i < c.numBlocks; i++) {
    x = b.scope(`blocks.${i}`, () => {
      // The first dropout's 1/(1−p) rides on fc2's Gemm; the second's output is also the residual.
      const dropped = reluDropoutUnscaled(f, batchNorm(f, 'bn1', linear(f, 'fc1', x, d, d), d, f.groups), c.dropout);
      const h = batchNorm(f, 'bn2', linear(f, 'fc2', dropped.y, d, d, dropped.scale), d, f.groups);
      return reluDropout(f, op.add(h, x), c.dropout);
    });
  }
  return layerNorm(f, 'final_norm', x, d);
}
