// The command list that `--help` shows without loading any command module agrees with the modules, and
// only the named command's module is loaded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandName, commands, commandsFor } from '../../src/cli/commands/index.ts';

test("each command's usage line and summary in the list are the module's own", async () => {
  for (const entry of commands) {
    const module = await entry.load();
    assert.equal(module.command, entry.command, `src/cli/commands/index.ts: usage of ${commandName(entry)}`);
    assert.equal(
      module.describe,
      entry.describe,
      `src/cli/commands/index.ts: summary of ${commandName(entry)}`,
    );
  }
});

test('only the named command comes with its flags and handler', async () => {
  const list = await commandsFor(['info', 'model.onnx']);
  const full = list.filter((c) => c.builder !== undefined);
  assert.deepEqual(
    full.map((c) => c.command),
    ['info <path>'],
  );
  assert.equal(list.length, commands.length);
  assert.deepEqual(
    (await commandsFor(['--help'])).filter((c) => c.builder !== undefined),
    [],
  );
});
