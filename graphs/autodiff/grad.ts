// Reverse-mode autodiff over a Builder's tape: appends the backward graph and returns gradients.
import type { Builder, Node, Value } from '../onnx/builder.ts';
import { isFloat } from '../onnx/dtype.ts';
import { attr } from '../onnx/opdefs.ts';
import * as op from '../onnx/ops.ts';
import { ruleFor } from './rules/index.ts';

/** What a gradient rule sees of its forward node, named as in ONNX Runtime's gradient builders. */
export interface GradContext {
  readonly b: Builder;
  readonly node: Node;
  /** Forward input i. */
  I(i: number): Value;
  /** Forward output i. */
  O(i: number): Value;
  /** Incoming gradient of output i, or null when no gradient reaches it. */
  GO(i: number): Value | null;
  /** Whether input i needs a gradient (it depends on a `wrt` value). */
  needs(i: number): boolean;
  /** An attribute's value, or a default. */
  attr<T>(name: string, fallback: T): T;
}

/** One gradient rule: the vector-Jacobian product of an op, one entry per input (null = none). */
export interface GradRule {
  readonly opType: string;
  vjp(ctx: GradContext): (Value | null)[];
}

export interface GradOptions {
  /** The cotangent of `y` (default: 1, which requires `y` to be a scalar). */
  seed?: Value;
}

/**
 * Appends to `y`'s graph the gradient of `y` with respect to each value in `wrt`, by reverse-mode
 * accumulation over the recorded nodes. Gradients from several uses of a value are summed. A
 * value that `y` does not depend on gets a zero gradient.
 */
export function grad(y: Value, wrt: Value[], options: GradOptions = {}): Value[] {
  const b = y.builder;
  const tracked = dependents(b, wrt);
  if (!tracked.has(y)) return wrt.map((w) => zerosLike(w));
  if (!options.seed && y.shape && y.shape.length > 0 && y.shape.some((d) => d !== 1)) {
    throw new Error(`grad: ${y} is not a scalar; pass a seed (cotangent) of its shape`);
  }
  const contributions = new Map<Value, Value[]>();
  contributions.set(y, [options.seed ?? op.scalarLike(y, 1)]);
  const total = (v: Value): Value | null => {
    const parts = contributions.get(v);
    if (!parts || parts.length === 0) return null;
    if (parts.length > 1) contributions.set(v, [op.sum(parts)]);
    return contributions.get(v)![0]!;
  };

  const relevant = ancestors(y);
  const accumulate = (input: Value, g: Value) => {
    const list = contributions.get(input) ?? [];
    list.push(g);
    contributions.set(input, list);
  };
  for (let k = b.nodes.length - 1; k >= 0; k--) {
    const node = b.nodes[k]!;
    if (node.noGrad) continue;
    if (node.region) {
      const region = node.region;
      if (node !== region.anchor) {
        for (const o of node.outputs) {
          if (contributions.has(o) && !region.outputs.includes(o)) {
            throw new Error(
              `grad: ${o.name} inside the custom-gradient region ${region.name} is used outside it`,
            );
          }
        }
        continue;
      }
      if (!region.outputs.some((o) => contributions.has(o))) continue;
      const gs = b.nodeScope(`grad/${region.name}`, () => region.vjp(region.outputs.map((o) => total(o))));
      region.inputs.forEach((input, i) => {
        if (tracked.has(input) && gs[i]) accumulate(input, gs[i]!);
      });
      continue;
    }
    if (!relevant.has(node)) continue;
    if (!node.outputs.some((o) => tracked.has(o) && contributions.has(o))) continue;
    const needs = node.inputs.map((v) => v !== null && tracked.has(v));
    if (!needs.some(Boolean)) continue;
    const rule = ruleFor(node.opType);
    if (!rule) {
      throw new Error(
        `grad: no gradient rule for op ${node.opType} (node ${node.name}); add one in graphs/autodiff/rules/`,
      );
    }
    const ctx: GradContext = {
      b,
      node,
      I: (i) => node.inputs[i]!,
      O: (i) => node.outputs[i]!,
      GO: (i) => total(node.outputs[i]!),
      needs: (i) => needs[i] ?? false,
      attr: (name, fallback) => attr(node.attrs, name, fallback),
    };
    const grads = b.nodeScope(`grad/${node.name}`, () => rule.vjp(ctx));
    node.inputs.forEach((input, i) => {
      if (!input || !needs[i]) return;
      const g = grads[i];
      if (!g)
        throw new Error(
          `grad: the rule for ${node.opType} gave no gradient for input ${i} of node ${node.name}`,
        );
      const list = contributions.get(input) ?? [];
      list.push(g);
      contributions.set(input, list);
    });
  }
  return wrt.map((w) => total(w) ?? zerosLike(w));
}

/** Values that depend (through differentiable, float-typed edges) on any of `wrt`. */
function dependents(b: Builder, wrt: Value[]): Set<Value> {
  const set = new Set<Value>(wrt);
  for (const node of b.nodes) {
    if (node.noGrad) continue;
    if (node.inputs.some((v) => v !== null && set.has(v))) {
      for (const o of node.outputs) if (isFloat(o.dtype)) set.add(o);
    }
  }
  return set;
}

/** Nodes that `y` depends on. */
function ancestors(y: Value): Set<Node> {
  const nodes = new Set<Node>();
  const stack: Value[] = [y];
  const seen = new Set<Value>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    if (v.producer && !nodes.has(v.producer)) {
      nodes.add(v.producer);
      for (const i of v.producer.inputs) if (i) stack.push(i);
    }
  }
  return nodes;
}

/** Zeros with `x`'s dtype and shape. */
export function zerosLike(x: Value): Value {
  const b = x.builder;
  const dims = x.shape?.every((d) => typeof d === 'number') ? b.ints(x.shape as number[]) : op.shape(x);
  return b.op(
    'ConstantOfShape',
    [dims],
    { value: { dtype: x.dtype, dims: [1], data: zeroData(x) } },
    { shape: x.shape },
  );
}

function zeroData(x: Value) {
  return x.dtype === 'float64' ? new Float64Array(1) : new Float32Array(1);
}

/**
 * Sums `g` down to `shape`, undoing numpy broadcasting: leading axes are reduced away and axes
 * where `shape` has 1 are reduced with keepdims. The one place every elementwise rule does this.
 * A [rows, n] gradient of an [n] vector (a bias, a norm's weight) is summed over its rows as a GEMV
 * with a constant row of ones: on [512, 256], ONNX Runtime's ReduceSum over axis 0 took ~12 µs against
 * ~6 for the GEMV on one thread, and ~190 against ~7 on two.
 */
export function unbroadcast(g: Value, target: Value): Value {
  const shape = target.shape;
  const gs = g.shape;
  if (!shape || !gs) throw new Error(`unbroadcast: unknown shapes (${g}, ${target})`);
  const [rows, columns] = gs;
  if (gs.length === 2 && shape.length === 1 && typeof rows === 'number' && columns === shape[0] && rows > 1) {
    const ones = g.builder.constant(g.dtype, [1, rows], new Array(rows).fill(1));
    return op.reshape(op.matMul(ones, g), [columns as number]);
  }
  const lead = gs.length - shape.length;
  const keepAxes: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1 && gs[i + lead] !== 1) keepAxes.push(i + lead);
  });
  let out = g;
  if (keepAxes.length) out = op.reduceSum(out, keepAxes, true);
  if (lead > 0) {
    out = op.reduceSum(
      out,
      Array.from({ length: lead }, (_, i) => i),
      false,
    );
  }
  return out;
}
