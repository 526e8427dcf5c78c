// Definitions of the ONNX ops the builder emits: attribute types, output count, dtype and shape inference.
import type { Dim, Shape, TensorData, Value } from './builder.ts';
import { type DType, dtypeOfCode } from './dtype.ts';

export type AttrKind = 'float' | 'int' | 'string' | 'floats' | 'ints' | 'strings' | 'tensor';
export type AttrValue = { kind: AttrKind; value: number | string | number[] | string[] | TensorData };
export type Attrs = Record<string, AttrValue>;

/** What inference knows of one output. */
export interface OutInfo {
  dtype: DType;
  shape: Shape | null;
  constant?: TensorData;
}

type Inputs = (Value | null)[];
type Infer = (ins: Inputs, attrs: Attrs, nOut: number) => OutInfo[];

export interface OpDef {
  domain?: string;
  outputs?: number;
  attrs: Record<string, AttrKind>;
  infer: Infer;
  typeAttrs(raw: Record<string, unknown>, opType: string): Attrs;
}

const defs = new Map<string, OpDef>();

function define(
  opTypes: string[],
  attrs: Record<string, AttrKind>,
  infer: Infer,
  extra: Partial<OpDef> = {},
): void {
  for (const opType of opTypes) {
    if (defs.has(opType)) throw new Error(`op ${opType} is defined twice`);
    defs.set(opType, { attrs, infer, typeAttrs: (raw, op) => typeAttrs(raw, attrs, op), ...extra });
  }
}

/** The definition of `opType`; throws naming the op when it is unknown. */
export function opDef(opType: string): OpDef {
  const def = defs.get(opType);
  if (!def) throw new Error(`unknown op "${opType}": the graph builder has no definition for it`);
  return def;
}

export function isKnownOp(opType: string): boolean {
  return defs.has(opType);
}

function typeAttrs(raw: Record<string, unknown>, kinds: Record<string, AttrKind>, opType: string): Attrs {
  const out: Attrs = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const kind = kinds[name];
    if (!kind) throw new Error(`${opType}: unknown attribute "${name}"`);
    out[name] = { kind, value: value as AttrValue['value'] };
  }
  return out;
}

/** Reads an attribute's value, or a default. */
export function attr<T>(attrs: Attrs, name: string, fallback: T): T {
  return (attrs[name]?.value as T | undefined) ?? fallback;
}

// ---- shape helpers ---------------------------------------------------------------------

function need(v: Value | null | undefined, what: string): Value {
  if (!v) throw new Error(`missing input: ${what}`);
  return v;
}

/** Numpy-style broadcasting of shapes; null when any rank is unknown. */
export function broadcastShapes(shapes: (Shape | null)[]): Shape | null {
  if (shapes.some((s) => s === null)) return null;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes as Shape[]) {
      const d = s[s.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1) dim = d;
      else if (dim !== d) {
        if (typeof dim === 'number' && typeof d === 'number') {
          throw new Error(`shapes [${shapes.map((x) => x!.join(',')).join('] and [')}] do not broadcast`);
        }
        if (typeof dim === 'string' && typeof d === 'number') dim = d;
      }
    }
    out.push(dim);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** The int64 contents of a constant input, as numbers; null when the input is not constant. */
export function constInts(v: Value | null | undefined): number[] | null {
  if (!v?.constant) return null;
  return Array.from(v.constant.data as ArrayLike<number | bigint>, Number);
}

function same(dtype?: DType): Infer {
  return (ins) => [{ dtype: dtype ?? need(ins[0], 'X').dtype, shape: need(ins[0], 'X').shape }];
}

function broadcast(dtype?: DType): Infer {
  return (ins) => {
    const vs = ins.filter((v): v is Value => v !== null);
    const first = vs[0]!;
    for (const v of vs) {
      if (!dtype && v.dtype !== first.dtype) {
        throw new Error(`input dtypes differ: ${first} and ${v}`);
      }
    }
    return [{ dtype: dtype ?? first.dtype, shape: broadcastShapes(vs.map((v) => v.shape)) }];
  };
}

function reduceShape(shape: Shape | null, axes: number[] | null, keepdims: boolean): Shape | null {
  if (!shape) return null;
  const all = axes === null || axes.length === 0;
  const set = new Set(all ? shape.map((_, i) => i) : axes.map((a) => normAxis(a, shape.length)));
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

const reduce: Infer = (ins, attrs) => {
  const x = need(ins[0], 'data');
  const axes = ins[1] ? constInts(ins[1]) : [];
  if (ins[1] && axes === null) return [{ dtype: x.dtype, shape: null }];
  return [{ dtype: x.dtype, shape: reduceShape(x.shape, axes, attr(attrs, 'keepdims', 1) === 1) }];
};

// ---- elementwise -----------------------------------------------------------------------

define(
  [
    'Identity',
    'Neg',
    'Relu',
    'Exp',
    'Log',
    'Sqrt',
    'Reciprocal',
    'Abs',
    'Sigmoid',
    'Tanh',
    'Floor',
    'Ceil',
    'Sign',
    'Erf',
    'Sin',
    'Cos',
    'Not',
  ],
  {},
  same(),
);
define(['IsNaN'], {}, same('bool'));
define(['Clip'], {}, same());
define(
  ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'BitwiseXor', 'BitwiseAnd', 'BitwiseOr'],
  {},
  broadcast(),
);
define(['Mod'], { fmod: 'int' }, broadcast());
define(['BitShift'], { direction: 'string' }, broadcast());
define(['Pow'], {}, (ins) => [
  {
    dtype: need(ins[0], 'X').dtype,
    shape: broadcastShapes([need(ins[0], 'X').shape, need(ins[1], 'Y').shape]),
  },
]);
define(
  ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor'],
  {},
  broadcast('bool'),
);
define(['Where'], {}, (ins) => {
  const [c, x, y] = [need(ins[0], 'condition'), need(ins[1], 'X'), need(ins[2], 'Y')];
  if (c.dtype !== 'bool') throw new Error(`Where: condition must be bool, got ${c}`);
  if (x.dtype !== y.dtype) throw new Error(`Where: branch dtypes differ: ${x} and ${y}`);
  return [{ dtype: x.dtype, shape: broadcastShapes([c.shape, x.shape, y.shape]) }];
});
define(['Cast'], { to: 'int' }, (ins, attrs) => [
  { dtype: dtypeOfCode(attr(attrs, 'to', 0)), shape: need(ins[0], 'input').shape },
]);

// ---- linear algebra --------------------------------------------------------------------

define(['MatMul'], {}, (ins) => {
  const [a, b] = [need(ins[0], 'A'), need(ins[1], 'B')];
  if (a.dtype !== b.dtype) throw new Error(`MatMul: input dtypes differ: ${a} and ${b}`);
  if (!a.shape || !b.shape) return [{ dtype: a.dtype, shape: null }];
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const [k1, k2] = [as[as.length - 1]!, bs[bs.length - 2]!];
  if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
    throw new Error(`MatMul: inner dimensions differ: ${a} and ${b}`);
  }
  const batch = broadcastShapes([as.slice(0, -2), bs.slice(0, -2)])!;
  const out: Dim[] = [...batch];
  if (a.shape.length > 1) out.push(as[as.length - 2]!);
  if (b.shape.length > 1) out.push(bs[bs.length - 1]!);
  return [{ dtype: a.dtype, shape: out }];
});
define(['Gemm'], { alpha: 'float', beta: 'float', transA: 'int', transB: 'int' }, (ins, attrs) => {
  const [a, b] = [need(ins[0], 'A'), need(ins[1], 'B')];
  if (a.dtype !== b.dtype) throw new Error(`Gemm: input dtypes differ: ${a} and ${b}`);
  if (!a.shape || !b.shape) return [{ dtype: a.dtype, shape: null }];
  const m = attr(attrs, 'transA', 0) ? a.shape[1]! : a.shape[0]!;
  const n = attr(attrs, 'transB', 0) ? b.shape[0]! : b.shape[1]!;
  return [{ dtype: a.dtype, shape: [m, n] }];
});

// ---- reductions and normalisation ------------------------------------------------------

define(
  [
    'ReduceSum',
    'ReduceMean',
    'ReduceMax',
    'ReduceMin',
    'ReduceLogSumExp',
    'ReduceProd',
    'ReduceSumSquare',
    'ReduceL2',
  ],
  { keepdims: 'int', noop_with_empty_axes: 'int' },
  reduce,
);
define(['Softmax', 'LogSoftmax'], { axis: 'int' }, same());
define(['ArgMax', 'ArgMin'], { axis: 'int', keepdims: 'int', select_last_index: 'int' }, (ins, attrs) => {
  const x = need(ins[0], 'data');
  return [
    {
      dtype: 'int64',
      shape: reduceShape(x.shape, [attr(attrs, 'axis', 0)], attr(attrs, 'keepdims', 1) === 1),
    },
  ];
});
define(['LayerNormalization'], { axis: 'int', epsilon: 'float', stash_type: 'int' }, (ins, attrs, nOut) => {
  const x = need(ins[0], 'X');
  const outs: OutInfo[] = [{ dtype: x.dtype, shape: x.shape }];
  if (nOut > 1) {
    const axis = x.shape ? normAxis(attr(attrs, 'axis', -1), x.shape.length) : 0;
    const stat = x.shape ? x.shape.map((d, i) => (i < axis ? d : 1)) : null;
    const statType: DType = attr(attrs, 'stash_type', 1) === 1 ? 'float32' : x.dtype;
    for (let i = 1; i < nOut; i++) outs.push({ dtype: statType, shape: stat });
  }
  return outs;
});
define(['BatchNormalization'], { epsilon: 'float', momentum: 'float', training_mode: 'int' }, same());
define(
  ['TopK'],
  { axis: 'int', largest: 'int', sorted: 'int' },
  (ins, attrs) => {
    const x = need(ins[0], 'X');
    const k = constInts(ins[1]);
    let shape: Shape | null = null;
    if (x.shape) {
      const axis = normAxis(attr(attrs, 'axis', -1), x.shape.length);
      shape = x.shape.map((d, i) => (i === axis ? (k ? k[0]! : '?') : d));
    }
    return [
      { dtype: x.dtype, shape },
      { dtype: 'int64', shape },
    ];
  },
  { outputs: 2 },
);

// ---- indexing and shape manipulation ---------------------------------------------------

define(['Gather'], { axis: 'int' }, (ins, attrs) => {
  const [data, idx] = [need(ins[0], 'data'), need(ins[1], 'indices')];
  if (idx.dtype !== 'int64' && idx.dtype !== 'int32')
    throw new Error(`Gather: indices must be int32/int64, got ${idx}`);
  if (!data.shape || !idx.shape) return [{ dtype: data.dtype, shape: null }];
  const axis = normAxis(attr(attrs, 'axis', 0), data.shape.length);
  return [
    { dtype: data.dtype, shape: [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)] },
  ];
});
define(['GatherElements'], { axis: 'int' }, (ins) => [
  { dtype: need(ins[0], 'data').dtype, shape: need(ins[1], 'indices').shape },
]);
define(['ScatterElements'], { axis: 'int', reduction: 'string' }, same());
define(['Concat'], { axis: 'int' }, (ins, attrs) => {
  const vs = ins.map((v, i) => need(v, `input ${i}`));
  for (const v of vs)
    if (v.dtype !== vs[0]!.dtype) throw new Error(`Concat: input dtypes differ: ${vs[0]} and ${v}`);
  if (vs.some((v) => !v.shape)) return [{ dtype: vs[0]!.dtype, shape: null }];
  const rank = vs[0]!.shape!.length;
  const axis = normAxis(attr(attrs, 'axis', 0), rank);
  const out = [...vs[0]!.shape!];
  let total: Dim = 0;
  for (const v of vs) {
    const d = v.shape![axis]!;
    total = typeof total === 'number' && typeof d === 'number' ? total + d : '?';
  }
  out[axis] = total;
  return [{ dtype: vs[0]!.dtype, shape: out }];
});
define(['Split'], { axis: 'int', num_outputs: 'int' }, (ins, attrs, nOut) => {
  const x = need(ins[0], 'input');
  const sizes = constInts(ins[1]);
  if (!x.shape) return Array.from({ length: nOut }, () => ({ dtype: x.dtype, shape: null }));
  const axis = normAxis(attr(attrs, 'axis', 0), x.shape.length);
  const total = x.shape[axis]!;
  return Array.from({ length: nOut }, (_, i) => {
    const shape = [...x.shape!];
    shape[axis] = sizes ? sizes[i]! : typeof total === 'number' ? Math.ceil(total / nOut) : '?';
    return { dtype: x.dtype, shape };
  });
});
define(['Slice'], {}, (ins) => {
  const x = need(ins[0], 'data');
  const [starts, ends, axesIn, steps] = [
    constInts(ins[1]),
    constInts(ins[2]),
    constInts(ins[3]),
    constInts(ins[4]),
  ];
  if (!x.shape || !starts || !ends)
    return [{ dtype: x.dtype, shape: x.shape ? x.shape.map(() => '?') : null }];
  const shape = [...x.shape];
  const axes = axesIn ?? starts.map((_, i) => i);
  axes.forEach((a, i) => {
    const axis = normAxis(a, shape.length);
    const dim = shape[axis]!;
    const step = steps?.[i] ?? 1;
    if (typeof dim !== 'number') {
      shape[axis] = '?';
      return;
    }
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
    const s = step > 0 ? clamp(starts[i]!, 0, dim) : clamp(starts[i]!, -1, dim - 1);
    const e = step > 0 ? clamp(ends[i]!, 0, dim) : clamp(ends[i]!, -1, dim - 1);
    shape[axis] = Math.max(0, Math.ceil((e - s) / step));
  });
  return [{ dtype: x.dtype, shape }];
});
define(['Reshape'], { allowzero: 'int' }, (ins) => {
  const x = need(ins[0], 'data');
  const target = constInts(ins[1]);
  if (!target) return [{ dtype: x.dtype, shape: null }];
  const shape: Dim[] = target.map((d, i) => (d === 0 ? (x.shape?.[i] ?? '?') : d));
  const neg = shape.indexOf(-1);
  if (neg >= 0) {
    const known = x.shape?.every((d) => typeof d === 'number') ?? false;
    const rest = shape.filter((_, i) => i !== neg);
    if (known && rest.every((d) => typeof d === 'number')) {
      const total = (x.shape as number[]).reduce((a, b) => a * b, 1);
      shape[neg] = total / (rest as number[]).reduce((a, b) => a * b, 1);
    } else {
      const sym = x.shape?.filter((d) => typeof d === 'string') ?? [];
      const restSym = rest.filter((d) => typeof d === 'string');
      const numX = (x.shape ?? [])
        .filter((d): d is number => typeof d === 'number')
        .reduce((a, b) => a * b, 1);
      const numRest = rest.filter((d): d is number => typeof d === 'number').reduce((a, b) => a * b, 1);
      shape[neg] = sym.length === 1 && restSym.length === 0 && numX === numRest ? sym[0]! : '?';
    }
  }
  return [{ dtype: x.dtype, shape }];
});
define(['Flatten'], { axis: 'int' }, (ins, attrs) => {
  const x = need(ins[0], 'input');
  if (!x.shape) return [{ dtype: x.dtype, shape: null }];
  const axis = attr(attrs, 'axis', 1);
  const prod = (ds: Dim[]): Dim =>
    ds.every((d) => typeof d === 'number')
      ? (ds as number[]).reduce((a, b) => a * b, 1)
      : ds.length === 1
        ? ds[0]!
        : '?';
  return [{ dtype: x.dtype, shape: [prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis))] }];
});
define(['Transpose'], { perm: 'ints' }, (ins, attrs) => {
  const x = need(ins[0], 'data');
  if (!x.shape) return [{ dtype: x.dtype, shape: null }];
  const perm = attr<number[]>(
    attrs,
    'perm',
    x.shape.map((_, i) => x.shape!.length - 1 - i),
  );
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape![p]!) }];
});
define(['Unsqueeze'], {}, (ins) => {
  const x = need(ins[0], 'data');
  const axes = constInts(ins[1]);
  if (!x.shape || !axes) return [{ dtype: x.dtype, shape: null }];
  const rank = x.shape.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, rank)));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : x.shape[j++]!);
  return [{ dtype: x.dtype, shape: out }];
});
define(['Squeeze'], {}, (ins) => {
  const x = need(ins[0], 'data');
  const axes = ins[1] ? constInts(ins[1]) : null;
  if (!x.shape || (ins[1] && !axes)) return [{ dtype: x.dtype, shape: null }];
  const set = new Set(
    (axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(a, x.shape!.length)),
  );
  return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !set.has(i)) }];
});
define(['Expand'], {}, (ins) => {
  const x = need(ins[0], 'input');
  const target = constInts(ins[1]);
  if (!target) return [{ dtype: x.dtype, shape: null }];
  return [{ dtype: x.dtype, shape: broadcastShapes([x.shape, target]) }];
});
define(['Tile'], {}, (ins) => {
  const x = need(ins[0], 'input');
  const reps = constInts(ins[1]);
  if (!x.shape || !reps) return [{ dtype: x.dtype, shape: x.shape?.map(() => '?') ?? null }];
  return [
    {
      dtype: x.dtype,
      shape: x.shape.map((d, i) => (typeof d === 'number' ? d * reps[i]! : reps[i] === 1 ? d : '?')),
    },
  ];
});
define(['Shape'], { start: 'int', end: 'int' }, (ins, attrs) => {
  const x = need(ins[0], 'data');
  if (!x.shape) return [{ dtype: 'int64', shape: ['?'] }];
  const r = x.shape.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clamp(attr(attrs, 'start', 0));
  const end = clamp(attr(attrs, 'end', r));
  const dims = x.shape.slice(start, end);
  const constant = dims.every((d) => typeof d === 'number')
    ? {
        dtype: 'int64' as const,
        dims: [dims.length],
        data: BigInt64Array.from(dims as number[], (d) => BigInt(d)),
      }
    : undefined;
  return [{ dtype: 'int64', shape: [Math.max(0, end - start)], constant }];
});
define(['Size'], {}, () => [{ dtype: 'int64', shape: [] }]);
define(['ConstantOfShape'], { value: 'tensor' }, (ins, attrs) => {
  const shapeIn = need(ins[0], 'input');
  const value = attrs.value?.value as TensorData | undefined;
  const dims = constInts(shapeIn);
  const rank = shapeIn.shape?.[0];
  return [
    {
      dtype: value?.dtype ?? 'float32',
      shape: dims ?? (typeof rank === 'number' ? Array.from({ length: rank }, () => '?') : null),
    },
  ];
});
define(['Range'], {}, (ins) => [{ dtype: need(ins[0], 'start').dtype, shape: ['?'] }]);
define(['OneHot'], { axis: 'int' }, (ins) => {
  const [idx, depth, values] = [need(ins[0], 'indices'), ins[1], need(ins[2], 'values')];
  const d = constInts(depth)?.[0] ?? '?';
  return [{ dtype: values.dtype, shape: idx.shape ? [...idx.shape, d] : null }];
});
define(['CumSum'], { exclusive: 'int', reverse: 'int' }, same());
define(['Trilu'], { upper: 'int' }, same());

// ---- ai.onnx.ml ------------------------------------------------------------------------

define(
  ['LabelEncoder'],
  {
    keys_strings: 'strings',
    keys_int64s: 'ints',
    keys_floats: 'floats',
    values_strings: 'strings',
    values_int64s: 'ints',
    values_floats: 'floats',
    default_string: 'string',
    default_int64: 'int',
    default_float: 'float',
  },
  (ins, attrs) => {
    const x = need(ins[0], 'X');
    const dtype: DType = attrs.values_int64s ? 'int64' : attrs.values_floats ? 'float32' : 'string';
    return [{ dtype, shape: x.shape }];
  },
  { domain: 'ai.onnx.ml' },
);
define(['ScatterND'], { reduction: 'string' }, same());
define(['Pad'], { mode: 'string' }, (ins) => {
  const x = need(ins[0], 'data');
  const pads = constInts(ins[1]);
  if (!x.shape || !pads) return [{ dtype: x.dtype, shape: x.shape?.map(() => '?') ?? null }];
  const r = x.shape.length;
  return [
    {
      dtype: x.dtype,
      shape: x.shape.map((d, i) => (typeof d === 'number' ? d + pads[i]! + pads[i + r]! : '?')),
    },
  ];
});
