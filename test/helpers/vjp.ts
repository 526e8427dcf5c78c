// The random-direction VJP check: ⟨t, vjp(c)⟩ from our backward graph against
// ⟨(f(x+εt) − f(x−εt)) / 2ε, c⟩ from the forward graph, both run on onnxruntime-node.
import { grad } from '../../graphs/autodiff/grad.ts';
import { Builder, type Value } from '../../graphs/onnx/builder.ts';
import { type DType, isFloat } from '../../graphs/onnx/dtype.ts';
import { type Feeds, ort, randn, rng, sessionFor } from './ort.ts';

export interface InputSpec {
  shape: number[];
  /** 'normal' (default), 'positive' in [0.5, 2], 'int' in [0, max), 'bool', or fixed values. */
  kind?: 'normal' | 'positive' | 'int' | 'bool';
  max?: number;
  values?: number[];
  /** Declared dims (symbolic names allowed) when they should differ from `shape`. */
  dims?: (number | string)[];
}

export interface VjpCase {
  name: string;
  inputs: InputSpec[];
  f: (xs: Value[]) => Value | Value[];
  dtype?: DType;
  /** Relative tolerance (default 1e-6; float32 cases state their own). */
  tolerance?: number;
}

export interface VjpResult {
  analytic: number;
  numeric: number;
  builder: Builder;
}

function tensorFor(dtype: DType, values: number[], shape: number[]): ort.Tensor {
  switch (dtype) {
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(values), shape);
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), shape);
    case 'int64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(values, (v) => BigInt(v)),
        shape,
      );
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(values), shape);
    default:
      throw new Error(`no test tensors of ${dtype}`);
  }
}

function inputDtype(spec: InputSpec, dtype: DType): DType {
  if (spec.kind === 'int') return 'int64';
  if (spec.kind === 'bool') return 'bool';
  return dtype;
}

function build(c: VjpCase, dtype: DType, withGrad: boolean) {
  const b = new Builder(c.name);
  const xs = c.inputs.map((s, i) => b.input(`x${i}`, inputDtype(s, dtype), s.dims ?? s.shape));
  const out = c.f(xs);
  const ys = Array.isArray(out) ? out : [out];
  ys.forEach((y, i) => {
    b.output(y, `y${i}`);
  });
  const floats = xs.filter((x) => isFloat(x.dtype));
  if (withGrad) {
    const cot = ys.map((y, i) => b.input(`c${i}`, y.dtype, y.shape!));
    let total: Value | null = null;
    ys.forEach((y, i) => {
      const dot = b.op('ReduceSum', [b.op('Mul', [y, cot[i]!])], { keepdims: 0 });
      total = total ? b.op('Add', [total, dot]) : dot;
    });
    grad(total!, floats).forEach((g, i) => {
      b.output(g, `g_${floats[i]!.name}`);
    });
  }
  return { b, xs, ys, floats };
}

/** Runs the check for one case and returns both sides. */
export async function checkVjp(c: VjpCase, seed = 1): Promise<VjpResult> {
  const dtype = c.dtype ?? 'float64';
  const random = rng(seed);
  const values = c.inputs.map((s) => {
    const n = s.shape.reduce((a, d) => a * d, 1);
    if (s.values) return s.values;
    if (s.kind === 'positive') return Array.from({ length: n }, () => 0.5 + 1.5 * random());
    if (s.kind === 'int') return Array.from({ length: n }, () => Math.floor(random() * (s.max ?? 2)));
    if (s.kind === 'bool') return Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0));
    return randn(n, random);
  });
  const tangents = c.inputs.map((s) =>
    randn(
      s.shape.reduce((a, d) => a * d, 1),
      random,
    ),
  );

  const g = build(c, dtype, true);
  const feeds: Feeds = {};
  g.xs.forEach((x, i) => {
    feeds[x.name] = tensorFor(x.dtype, values[i]!, c.inputs[i]!.shape);
  });
  const fwd = build(c, dtype, false);
  const fSession = await sessionFor(fwd.b);
  const base = await fSession.run(feeds);
  const cots = g.ys.map((_, i) => {
    const y = base[`y${i}`]!;
    return randn(y.data.length, random);
  });
  g.ys.forEach((_, i) => {
    feeds[`c${i}`] = tensorFor(g.ys[i]!.dtype, cots[i]!, base[`y${i}`]!.dims as number[]);
  });
  const gSession = await sessionFor(g.b);
  const out = await gSession.run(feeds);
  let analytic = 0;
  g.xs.forEach((x, i) => {
    if (!isFloat(x.dtype)) return;
    const gv = out[`g_${x.name}`]!.data as Float64Array;
    tangents[i]!.forEach((t, j) => {
      analytic += t * gv[j]!;
    });
  });

  const eps = dtype === 'float64' ? 1e-6 : 1e-2;
  const shifted = async (sign: number) => {
    const f: Feeds = {};
    fwd.xs.forEach((x, i) => {
      const v = isFloat(x.dtype) ? values[i]!.map((a, j) => a + sign * eps * tangents[i]![j]!) : values[i]!;
      f[x.name] = tensorFor(x.dtype, v, c.inputs[i]!.shape);
    });
    return fSession.run(f);
  };
  const [plus, minus] = [await shifted(1), await shifted(-1)];
  let numeric = 0;
  g.ys.forEach((_, i) => {
    const p = plus[`y${i}`]!.data as Float64Array;
    const m = minus[`y${i}`]!.data as Float64Array;
    cots[i]!.forEach((cv, j) => {
      numeric += (cv * (p[j]! - m[j]!)) / (2 * eps);
    });
  });
  await fSession.release();
  await gSession.release();
  return { analytic, numeric, builder: g.b };
}
