// The training ETA: whole seconds (never `4:60`), the average pace rather than the last batches', and the
// end that a time budget sets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateRemaining, formatBudget, formatDuration } from '../../src/train/progress.node.ts';

test('durations round to whole seconds and carry into minutes and hours', () => {
  assert.equal(formatDuration(299.6), '5:00');
  assert.equal(formatDuration(59.5), '1:00');
  assert.equal(formatDuration(0.2), '0:00');
  assert.equal(formatDuration(3725), '1:02:05');
  for (let s = 0; s < 400; s += 0.37) assert.doesNotMatch(formatDuration(s), /:60/);
  assert.equal(formatBudget(100), '100 s');
  assert.equal(formatBudget(300), '5 min');
});

test('without a budget the ETA is the remaining batches at the average pace', () => {
  // 10 s for 20 batches: 0.5 s a batch; 80 left in this epoch, 2 more epochs of 100.
  const r = estimateRemaining({ epoch: 0, epochs: 3, batch: 20, batches: 100, elapsed: 10, batchesDone: 20 });
  assert.deepEqual(r, { seconds: 40 + 100, byBudget: false });
});

test('a budget ends the run at the end of the epoch in which it runs out', () => {
  // 50 s an epoch; at 10 s into epoch 1 of 10 with a 100 s budget, epochs end at 50, 100, 150…: the
  // 100 s mark ends epoch 2.
  const base = { epoch: 0, epochs: 10, batch: 20, batches: 100, elapsed: 10, batchesDone: 20 };
  assert.deepEqual(estimateRemaining({ ...base, budgetSeconds: 100 }), { seconds: 90, byBudget: true });
  // A budget past the last epoch changes nothing.
  assert.deepEqual(estimateRemaining({ ...base, budgetSeconds: 10_000 }), { seconds: 490, byBudget: false });
  // Already past the budget: this epoch is the last.
  assert.deepEqual(estimateRemaining({ ...base, elapsed: 120, batchesDone: 20, budgetSeconds: 100 }), {
    seconds: 480,
    byBudget: true,
  });
});
