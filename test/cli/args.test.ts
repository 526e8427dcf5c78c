// Argument errors of export, embed, score, eval-scores, serve and info: exit code 2, no stack trace, and a
// message that says what to type.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli } from '../helpers/run-fixture.ts';

const CASES: [string, string[], RegExp][] = [
  ['serve without --model', ['serve'], /give the run to serve with --model, e\.g\. --model runs\/first/],
  ['serve --port not a number', ['serve', '--model', 'r', '--port', 'abc'], /--port 8080/],
  ['serve --port out of range', ['serve', '--model', 'r', '--port', '70000'], /from 0 to 65535/],
  ['serve --max-body not a size', ['serve', '--model', 'r', '--max-body', 'lots'], /--max-body 1mb/],
  ['serve --batch-max 0', ['serve', '--model', 'r', '--batch-max', '0'], /--batch-max 1000/],
  [
    'serve on a missing run',
    ['serve', '--model', '/nonexistent/run', '--port', '0'],
    /does not exist: give a run directory/,
  ],
  [
    'score --batch-size not a number',
    ['score', 'e.jsonl', '--model', 'r', '--out', 's.jsonl', '--batch-size', 'x'],
    /--batch-size 1024/,
  ],
  ['score without --out', ['score', 'e.jsonl', '--model', 'r'], /--out scores\.jsonl/],
  [
    'embed --device unknown',
    ['embed', 'e.jsonl', '--model', 'r', '--out', 'e.npy', '--device', 'gpu'],
    /device.*Choices/s,
  ],
  [
    'embed --threads 0',
    ['embed', 'e.jsonl', '--model', 'r', '--out', 'e.npy', '--threads', '0'],
    /--threads 2/,
  ],
  [
    'embed --out in a missing folder',
    ['embed', 'e.jsonl', '--model', 'r', '--out', '/nonexistent/dir/e.npy'],
    /mkdir -p/,
  ],
  ['a misspelt flag', ['embed', 'e.jsonl', '--modle', 'r', '--out', 'e.npy'], /Unknown argument: modle/],
  ['export without a run', ['export', '--out', 'm.onnx'], /Not enough non-option arguments|run/],
  [
    'eval-scores --threshold not a number',
    ['eval-scores', 's.jsonl', '--labels', 'l.jsonl', '--threshold', 'high'],
    /--threshold 0\.35/,
  ],
  ['info on a missing path', ['info', '/nonexistent/run'], /does not exist: give a run directory/],
];

for (const [name, args, message] of CASES) {
  test(`${name}: exit code 2 and a message saying what to type`, () => {
    const r = cli(...args);
    assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /^ocsf-embed: /);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}
