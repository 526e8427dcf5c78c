// Gradient of Gather along axis 0 (embedding lookup): scatter-add of g into zeros of the table's shape.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { zerosLike } from '../grad.ts';

export const Gather: GradRule = {
  opType: 'Gather',
  vjp: ({ b, I, GO, attr, node }) => {
    if (attr('axis', 0) !== 0)
      throw new Error(
        `grad: Gather node ${node.name} gathers along axis ${attr('axis', 0)}; only axis 0 has a rule`,
      );
    const [data, indices] = [I(0), I(1)];
    const idx = op.unsqueeze(op.cast(indices, 'int64'), [-1]);
    return [
      b.op('ScatterND', [zerosLike(data), idx, GO(0)!], { reduction: 'add' }, { shape: data.shape }),
      null,
    ];
  },
};
