// onnxruntime-node loads in the test environment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';

test('onnxruntime-node loads', () => {
  assert.equal(typeof ort.InferenceSession.create, 'function');
});
