// The registry of gradient rules: every rule, listed once.
import type { GradRule } from '../grad.ts';
import { Add } from './Add.ts';
import { Cast } from './Cast.ts';
import { Concat } from './Concat.ts';
import { Div } from './Div.ts';
import { Exp } from './Exp.ts';
import { Expand } from './Expand.ts';
import { Gather } from './Gather.ts';
import { Gemm } from './Gemm.ts';
import { Identity } from './Identity.ts';
import { LayerNormalization } from './LayerNormalization.ts';
import { Log } from './Log.ts';
import { LogSoftmax } from './LogSoftmax.ts';
import { MatMul } from './MatMul.ts';
import { Max } from './Max.ts';
import { Mul } from './Mul.ts';
import { Neg } from './Neg.ts';
import { Pow } from './Pow.ts';
import { Reciprocal } from './Reciprocal.ts';
import { ReduceLogSumExp } from './ReduceLogSumExp.ts';
import { ReduceMax } from './ReduceMax.ts';
import { ReduceMean } from './ReduceMean.ts';
import { ReduceSum } from './ReduceSum.ts';
import { Relu } from './Relu.ts';
import { Reshape } from './Reshape.ts';
import { Softmax } from './Softmax.ts';
import { Split } from './Split.ts';
import { Sqrt } from './Sqrt.ts';
import { Squeeze } from './Squeeze.ts';
import { Sub } from './Sub.ts';
import { Sum } from './Sum.ts';
import { Transpose } from './Transpose.ts';
import { Unsqueeze } from './Unsqueeze.ts';
import { Where } from './Where.ts';

/** Every gradient rule, one per ONNX op. */
export const RULES: readonly GradRule[] = [
  Add,
  Cast,
  Concat,
  Div,
  Exp,
  Expand,
  Gather,
  Gemm,
  Identity,
  LayerNormalization,
  Log,
  LogSoftmax,
  MatMul,
  Max,
  Mul,
  Neg,
  Pow,
  Reciprocal,
  ReduceLogSumExp,
  ReduceMax,
  ReduceMean,
  ReduceSum,
  Relu,
  Reshape,
  Softmax,
  Split,
  Sqrt,
  Squeeze,
  Sub,
  Sum,
  Transpose,
  Unsqueeze,
  Where,
];

const byOp = new Map<string, GradRule>();
for (const rule of RULES) {
  if (byOp.has(rule.opType)) throw new Error(`gradient rule for ${rule.opType} is registered twice`);
  byOp.set(rule.opType, rule);
}

/** The rule for `opType`, or undefined when there is none. */
export function ruleFor(opType: string): GradRule | undefined {
  return byOp.get(opType);
}
