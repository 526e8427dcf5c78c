// Parameters and buffers of a model being built, and the forward context layers share.
import type { Builder, TensorData, Value } from '../onnx/builder.ts';
import type { DType } from '../onnx/dtype.ts';
import type { BernoulliPool } from '../rng.ts';
import { type Init, initialize } from './init.ts';

/** A parameter (trained) or buffer (running statistic, counter), named by its state_dict key. */
export interface ParamSpec {
  name: string;
  shape: number[];
  dtype: DType;
  init: Init;
  role: 'param' | 'buffer';
  /** Whether AdamW may decay it when decay is limited to weight matrices. */
  isMatrix: boolean;
}

/**
 * Where parameter values come from: graph inputs (training graphs feed them each step) or
 * initializers holding given weights (inference graphs).
 */
export class Params {
  readonly specs: ParamSpec[] = [];
  private readonly values = new Map<string, Value>();
  /** Latest value of each buffer updated during the forward pass(es). */
  readonly updates = new Map<string, Value>();

  constructor(
    readonly b: Builder,
    readonly source: 'inputs' | 'initializers',
    private readonly weights?: Map<string, TensorData>,
    readonly dtype: DType = 'float32',
  ) {}

  /** The value of a parameter or buffer, declared on first use under the current scope. */
  get(
    localName: string,
    shape: number[],
    init: Init,
    role: 'param' | 'buffer' = 'param',
    dtype?: DType,
  ): Value {
    const name = this.b.qualified(localName);
    const existing = this.values.get(name);
    if (existing) return existing;
    const t = dtype ?? this.dtype;
    this.specs.push({ name, shape, dtype: t, init, role, isMatrix: role === 'param' && shape.length >= 2 });
    let v: Value;
    if (this.source === 'inputs') v = this.b.input(name, t, shape);
    else {
      const w = this.weights?.get(name);
      if (!w) throw new Error(`no weights given for ${name}`);
      v = this.b.initializer(name, w);
    }
    this.values.set(name, v);
    return v;
  }

  /** The current value of a buffer: its latest update in this graph, else its input. */
  current(name: string): Value {
    return this.updates.get(name) ?? this.values.get(name)!;
  }

  /** Records a buffer's new value. */
  update(name: string, v: Value): void {
    this.updates.set(name, v);
  }
}

/** Initial values of every spec, from a seed. */
export function initialState(specs: ParamSpec[], seed: number): Map<string, TensorData> {
  const out = new Map<string, TensorData>();
  for (const s of specs) {
    if (s.dtype === 'int64') {
      out.set(s.name, {
        dtype: 'int64',
        dims: s.shape,
        data: new BigInt64Array(s.shape.reduce((a, d) => a * d, 1)),
      });
    } else out.set(s.name, initialize(s.name, s.shape, s.init, seed));
  }
  return out;
}

/** What every layer needs while a forward pass is built. */
export interface Forward {
  b: Builder;
  params: Params;
  /** Train mode: batch-statistics BatchNorm, running-stat updates, dropout. */
  train: boolean;
  /** Eval mode: the BatchNorms are folded into the preceding Linear layers' weights (identity here). */
  foldedBatchNorm?: boolean;
  /** Train mode: the rows are this many stacked groups, each its own BatchNorm batch (default 1). */
  groups?: number;
  /** Dropout scale masks (0 or 1/(1−p), float) drawn for the whole step at once (train step); else each site hashes its own. */
  dropoutMasks?: BernoulliPool;
  /** Randomness: a fresh uint32 stream key per call, or null where randomness is off. */
  random: (() => Value) | null;
}
