// The tape-style graph builder: values with dtype and shape, nodes, initializers, scopes, opsets.
import { type DType, type TypedArray, typedFrom } from './dtype.ts';
import { type Attrs, type AttrValue, opDef } from './opdefs.ts';

/** A dimension: a size, or a symbolic name such as `batch`. */
export type Dim = number | string;
export type Shape = Dim[];

/** Constant tensor contents, known at build time. */
export interface TensorData {
  dtype: DType;
  dims: number[];
  data: TypedArray | string[];
}

/** A value in the graph: an input, an initializer, a constant or a node output. */
export class Value {
  constructor(
    readonly builder: Builder,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape | null,
    readonly producer: Node | null,
    readonly constant?: TensorData,
  ) {}

  get rank(): number {
    if (!this.shape) throw new Error(`the rank of ${this.name} is unknown`);
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}[${this.shape?.join(', ') ?? '?'}]`;
  }
}

/** A recorded operation. `noGrad` marks nodes that autodiff treats as constant (stop-gradient). */
export interface Node {
  readonly id: number;
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: (Value | null)[];
  readonly outputs: Value[];
  readonly attrs: Attrs;
  readonly noGrad?: boolean;
  /** Set on nodes inside a region whose gradient is given by hand (see `Builder.customGrad`). */
  region?: CustomGradRegion;
}

/**
 * A stretch of the tape with a hand-written vector-Jacobian product: autodiff calls `vjp` with
 * the outputs' incoming gradients instead of walking the nodes inside.
 */
export interface CustomGradRegion {
  readonly name: string;
  readonly inputs: Value[];
  readonly outputs: Value[];
  readonly vjp: (grads: (Value | null)[]) => (Value | null)[];
  /** The region's last node, where autodiff handles the whole region. */
  anchor?: Node;
}

export interface Initializer {
  value: Value;
  data: TensorData;
}

export interface OpOptions {
  /** Number of outputs, for ops with a variable count (Split, LayerNormalization). */
  outputs?: number;
  /** Explicit node name (default: scope + op type + counter). */
  name?: string;
  /** Treat this node as constant for autodiff. */
  noGrad?: boolean;
  /** The first output's shape, where inference cannot know it (e.g. a shape computed at run time). */
  shape?: Shape | null;
}

/**
 * The most tensors (inputs and outputs together) a Concat or Split node may bind. WebGPU's default
 * `maxStorageBuffersPerShaderStage` is 8, and onnxruntime-web's WebGPU kernels bind every input and
 * output of these ops in one shader: a wider node fails validation there and yields garbage. Wider
 * Concats and Splits are emitted as trees of narrower ones (the same values on every runtime).
 * Graphs for CPU providers may lift the limit (`Builder`'s `maxNodeTensors`): each level of a tree
 * copies its elements again, and each node costs executor time.
 */
export const MAX_NODE_TENSORS = 8;

/** A node of a Concat or Split tree: a leaf's index, or its children in order. */
type Tree = number | Tree[];

/**
 * How `sizes.length` parts are joined (or split) in nodes of at most `width` parts each: the top
 * node's children, in order. Each node copies every element below it once, so the tree is the one
 * with the fewest element copies (Σ size × depth), found by dynamic programming over runs of parts:
 * large parts stay near the top.
 */
export function narrowTree(sizes: number[], width: number): Tree[] {
  const n = sizes.length;
  const prefix = [0];
  for (const s of sizes) prefix.push(prefix[prefix.length - 1]! + s);
  const at = (i: number, j: number) => i * (n + 1) + j;
  // node[i, j]: copies made by a node over parts i..j−1 and everything below it (0 for a single part).
  const node = new Float64Array((n + 1) * (n + 1));
  const nodeCut = new Int32Array((n + 1) * (n + 1));
  // cover[k][i, j]: the fewest copies for parts i..j−1 as at most k sibling children, in order.
  const cover = Array.from({ length: width + 1 }, (_, k) =>
    new Float64Array((n + 1) * (n + 1)).fill(k === 0 ? Number.POSITIVE_INFINITY : 0),
  );
  const coverCut = Array.from({ length: width + 1 }, () => new Int32Array((n + 1) * (n + 1)));
  for (let k = 0; k <= width; k++) for (let i = 0; i <= n; i++) cover[k]![at(i, i)] = 0;
  for (let length = 1; length <= n; length++) {
    for (let i = 0; i + length <= n; i++) {
      const j = i + length;
      if (length > 1) {
        // A node has at least two children: the first ends before j.
        let best = Number.POSITIVE_INFINITY;
        for (let m = i + 1; m < j; m++) {
          const cost = node[at(i, m)]! + cover[width - 1]![at(m, j)]!;
          if (cost < best) [best, nodeCut[at(i, j)]] = [cost, m];
        }
        node[at(i, j)] = prefix[j]! - prefix[i]! + best;
      }
      for (let k = 1; k <= width; k++) {
        let best = Number.POSITIVE_INFINITY;
        for (let m = i + 1; m <= j; m++) {
          const cost = node[at(i, m)]! + cover[k - 1]![at(m, j)]!;
          if (cost < best) [best, coverCut[k]![at(i, j)]] = [cost, m];
        }
        cover[k]![at(i, j)] = best;
      }
    }
  }
  const siblings = (i: number, j: number, k: number): Tree[] => {
    if (i === j) return [];
    const m = coverCut[k]![at(i, j)]!;
    return [subtree(i, m), ...siblings(m, j, k - 1)];
  };
  const subtree = (i: number, j: number): Tree => {
    if (j - i === 1) return i;
    const m = nodeCut[at(i, j)]!;
    return [subtree(i, m), ...siblings(m, j, width - 1)];
  };
  if (n <= 1) return sizes.map((_, i) => i);
  const top = subtree(0, n);
  return top as Tree[];
}

/** The opsets every graph imports; pinned here, once. */
export const OPSETS: Record<string, number> = { '': 18, 'ai.onnx.ml': 3 };
export const IR_VERSION = 8;

/** Records a graph as it is built, op by op. */
export class Builder {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers: Initializer[] = [];
  readonly metadata = new Map<string, string>();
  private readonly names = new Set<string>();
  private readonly scopes: { name: string; forParams: boolean }[] = [];
  private readonly constants = new Map<string, Value>();
  private valueCounter = 0;
  private nodeCounter = 0;

  /**
   * `maxNodeTensors`: the most tensors one Concat or Split node binds; wider ones become trees. The
   * default suits every provider; `Infinity` emits them as one node, for graphs that never run on WebGPU.
   */
  constructor(
    readonly graphName = 'graph',
    readonly maxNodeTensors = MAX_NODE_TENSORS,
  ) {}

  /** Runs `fn` inside a name scope: parameters become `a.b.name`, nodes `a/b/Op_3`. */
  scope<T>(name: string, fn: () => T): T {
    return this.withScope({ name, forParams: true }, fn);
  }

  /** Runs `fn` inside a scope that names nodes only (`view1/…`), leaving parameter names alone. */
  nodeScope<T>(name: string, fn: () => T): T {
    return this.withScope({ name, forParams: false }, fn);
  }

  private withScope<T>(s: { name: string; forParams: boolean }, fn: () => T): T {
    this.scopes.push(s);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** The scoped, dotted name for a parameter or buffer. */
  qualified(name: string): string {
    return [...this.scopes.filter((s) => s.forParams).map((s) => s.name), name].join('.');
  }

  private nodePrefix(): string[] {
    return this.scopes.map((s) => s.name);
  }

  /** Declares a graph input. */
  input(name: string, dtype: DType, shape: Shape): Value {
    const v = new Value(this, this.claim(name), dtype, shape, null);
    this.inputs.push(v);
    return v;
  }

  /** Declares a graph output; adds an Identity when the value must be renamed. */
  output(value: Value, name?: string): Value {
    let v = value;
    const isInput = this.inputs.includes(v) || this.initializers.some((i) => i.value === v);
    if ((name && name !== v.name) || isInput || this.outputs.includes(v)) {
      v = this.op('Identity', [v], {}, { name: name ? `${name}/Identity` : undefined }, name);
    }
    this.outputs.push(v);
    return v;
  }

  /** Adds a named initializer (a weight baked into the graph). */
  initializer(name: string, data: TensorData): Value {
    const v = new Value(this, this.claim(name), data.dtype, [...data.dims], null, data);
    this.initializers.push({ value: v, data });
    return v;
  }

  /** A constant tensor, shared by every use with the same dtype, shape and contents. */
  constant(dtype: DType, dims: number[], values: ArrayLike<number | bigint> | string[]): Value {
    const data: TensorData =
      dtype === 'string'
        ? { dtype, dims, data: [...(values as string[])] }
        : { dtype, dims, data: typedFrom(dtype, values as ArrayLike<number | bigint>) };
    const key = `${dtype}|${dims.join(',')}|${constantKey(data)}`;
    const cached = this.constants.get(key);
    if (cached) return cached;
    const v = this.initializer(`const_${this.constants.size}`, data);
    this.constants.set(key, v);
    return v;
  }

  /** A scalar constant of the given dtype. */
  scalar(dtype: DType, value: number): Value {
    return this.constant(dtype, [], [value]);
  }

  /** A 1-D int64 constant, the form ONNX takes for axes, shapes and indices. */
  ints(values: number[]): Value {
    return this.constant('int64', [values.length], values);
  }

  /**
   * Appends a node and returns its first output. Attribute types come from the op's definition;
   * output dtypes and shapes are inferred there too.
   */
  op(
    opType: string,
    inputs: (Value | null)[],
    attrs: Record<string, unknown> = {},
    options: OpOptions = {},
    outName?: string,
  ): Value {
    return this.opMulti(opType, inputs, attrs, options, outName ? [outName] : undefined)[0]!;
  }

  /**
   * A Concat of more than `maxNodeTensors - 1` inputs or a Split (with constant sizes) into more
   * than that many outputs, emitted as a tree (see `narrowTree`); null when the node is narrow enough.
   */
  private narrowed(
    opType: string,
    inputs: (Value | null)[],
    attrs: Record<string, unknown>,
    options: OpOptions,
    outNames?: string[],
  ): Value[] | null {
    const width = this.maxNodeTensors - 1;
    const inner = { noGrad: options.noGrad };
    if (opType === 'Concat' && inputs.length > width) {
      const axis = attrs.axis as number;
      const extent = (v: Value | null) => {
        const d = v?.shape?.[axis < 0 ? v.shape.length + axis : axis];
        return typeof d === 'number' ? d : 1;
      };
      const build = (t: Tree): Value => {
        if (typeof t === 'number') return inputs[t]!;
        return this.op('Concat', t.map(build), attrs, inner);
      };
      const top = narrowTree(inputs.map(extent), width);
      return this.opMulti('Concat', top.map(build), attrs, options, outNames);
    }
    const count = options.outputs ?? 0;
    const sizes = opType === 'Split' ? inputs[1]?.constant : undefined;
    if (opType === 'Split' && count > width && sizes && sizes.dims.length === 1 && inputs[0]) {
      const all = Array.from(sizes.data as ArrayLike<number | bigint>, Number);
      const total = (t: Tree): number =>
        typeof t === 'number' ? all[t]! : t.reduce<number>((a, c) => a + total(c), 0);
      const out: Value[] = [];
      const split = (x: Value, children: Tree[], options: OpOptions) => {
        const names = children.map((c) => (typeof c === 'number' ? outNames?.[c] : undefined));
        const parts = this.opMulti(
          'Split',
          [x, this.ints(children.map(total))],
          attrs,
          { ...options, outputs: children.length },
          names as string[],
        );
        children.forEach((c, i) => {
          if (typeof c === 'number') out[c] = parts[i]!;
          else split(parts[i]!, c, inner);
        });
      };
      split(inputs[0], narrowTree(all, width), options);
      return out;
    }
    return null;
  }

  /** Appends a node and returns all of its outputs. */
  opMulti(
    opType: string,
    inputs: (Value | null)[],
    attrs: Record<string, unknown> = {},
    options: OpOptions = {},
    outNames?: string[],
  ): Value[] {
    const wide = this.narrowed(opType, inputs, attrs, options, outNames);
    if (wide) return wide;
    const def = opDef(opType);
    for (const v of inputs) {
      if (v && v.builder !== this) throw new Error(`${opType}: input ${v.name} belongs to another graph`);
    }
    const typed = def.typeAttrs(attrs, opType);
    const infos = def.infer(inputs, typed, options.outputs ?? def.outputs ?? 1);
    if (options.shape && infos[0]) infos[0] = { ...infos[0], shape: options.shape };
    const id = this.nodeCounter++;
    const name = options.name ?? [...this.nodePrefix(), `${opType}_${id}`].join('/');
    const outputs = infos.map((info, i) => {
      const outName = outNames?.[i] ? this.claim(outNames[i]!) : this.claim(`v${this.valueCounter++}`);
      return new Value(this, outName, info.dtype, info.shape, null, info.constant);
    });
    const node: Node = {
      id,
      name,
      opType,
      domain: def.domain ?? '',
      inputs,
      outputs,
      attrs: typed,
      noGrad: options.noGrad,
    };
    for (const out of outputs) (out as { producer: Node | null }).producer = node;
    this.nodes.push(node);
    return outputs;
  }

  /**
   * Builds `forward` (which may use any ops) and registers `vjp` as its gradient: given the
   * incoming gradient of each output, it returns one gradient per input (null for none).
   */
  customGrad(
    name: string,
    inputs: Value[],
    forward: () => Value[],
    vjp: (grads: (Value | null)[]) => (Value | null)[],
  ): Value[] {
    const first = this.nodes.length;
    const outputs = this.nodeScope(name, forward);
    const region: CustomGradRegion = { name, inputs, outputs, vjp };
    for (let i = first; i < this.nodes.length; i++) this.nodes[i]!.region = region;
    region.anchor = this.nodes[this.nodes.length - 1];
    return outputs;
  }

  /**
   * Appends a node exactly as given, without checks or inference. For tests of `validate()`
   * and for ops whose outputs the caller declares.
   */
  rawNode(
    opType: string,
    inputs: (Value | null)[],
    outputs: { name: string; dtype: DType; shape: Shape | null }[],
    attrs: Attrs = {},
  ): Value[] {
    const id = this.nodeCounter++;
    const node: Node = {
      id,
      name: `${opType}_${id}`,
      opType,
      domain: '',
      inputs,
      outputs: [],
      attrs,
    };
    const outs = outputs.map((o) => new Value(this, this.claim(o.name), o.dtype, o.shape, node));
    (node as { outputs: Value[] }).outputs = outs;
    this.nodes.push(node);
    return outs;
  }

  /** Renames nothing, reuses nothing: every name in the graph is unique. */
  private claim(name: string): string {
    if (this.names.has(name))
      throw new Error(`the name "${name}" is already used in graph ${this.graphName}`);
    this.names.add(name);
    return name;
  }

  /** Whether `name` is already taken. */
  has(name: string): boolean {
    return this.names.has(name);
  }
}

/** A key for a constant's contents: the values themselves when small, else a hash of the bytes. */
function constantKey(data: TensorData): string {
  if (Array.isArray(data.data)) return JSON.stringify(data.data);
  const d = data.data as TypedArray;
  if (d.length <= 64) return Array.from(d as ArrayLike<number | bigint>, (x) => String(x)).join(',');
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ bytes[i]!, 0x5bd1e995);
  }
  return `${d.length}#${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
}

export type { Attrs, AttrValue };
