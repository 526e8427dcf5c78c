// Gradient of Concat: the incoming gradient split back into the inputs' extents.
import type { Value } from '../../onnx/builder.ts';
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Concat: GradRule = {
  opType: 'Concat',
  vjp: ({ b, node, GO, attr }) => {
    const xs = node.inputs as Value[];
    const rank = xs[0]!.rank;
    const axis = (attr('axis', 0) + rank) % rank;
    const sizes = xs.map((x) => x.shape![axis]!);
    const split = sizes.every((d) => typeof d === 'number')
      ? b.ints(sizes as number[])
      : op.concat(
          xs.map((x) => op.shape(x, axis, axis + 1)),
          0,
        );
    const parts = b.opMulti('Split', [GO(0)!, split], { axis }, { outputs: xs.length });
    return parts.map((p, i) =>
      p.shape?.every((d) => d !== '?') ? p : b.op('Identity', [p], {}, { shape: xs[i]!.shape }),
    );
  },
};
