// One check of a finished graph before ONNX Runtime sees it: definitions, dtypes, known ops.
import type { Builder, Value } from './builder.ts';
import { isKnownOp, opDef } from './opdefs.ts';

/** A graph that failed validation; the message names the node. */
export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphError';
  }
}

/**
 * Checks that every value is defined before use, every op is known, and every node's output
 * dtypes agree with what its inputs imply. Throws a GraphError naming the first bad node.
 */
export function validate(b: Builder): void {
  const defined = new Set<string>();
  for (const v of b.inputs) defined.add(v.name);
  for (const i of b.initializers) defined.add(i.value.name);
  for (const node of b.nodes) {
    const where = `node ${node.name} (${node.opType})`;
    if (!isKnownOp(node.opType)) throw new GraphError(`${where}: unknown op "${node.opType}"`);
    node.inputs.forEach((v, i) => {
      if (v && !defined.has(v.name)) {
        throw new GraphError(`${where}: input ${i} "${v.name}" is used before it is defined`);
      }
    });
    let inferred: { dtype: string }[];
    try {
      const def = opDef(node.opType);
      inferred = def.infer(node.inputs, node.attrs, node.outputs.length);
    } catch (e) {
      throw new GraphError(`${where}: ${(e as Error).message}`);
    }
    node.outputs.forEach((out: Value, i) => {
      const want = inferred[i]?.dtype;
      if (want && want !== out.dtype) {
        throw new GraphError(
          `${where}: output ${i} "${out.name}" is ${out.dtype} but its inputs make it ${want}`,
        );
      }
      if (defined.has(out.name)) throw new GraphError(`${where}: output "${out.name}" is defined twice`);
      defined.add(out.name);
    });
  }
  for (const v of b.outputs) {
    if (!defined.has(v.name)) throw new GraphError(`graph output "${v.name}" is never defined`);
  }
}
