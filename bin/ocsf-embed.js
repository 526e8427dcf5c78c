#!/usr/bin/env node
// Command-line entry. An installed package runs the compiled CLI in dist/; a source checkout (src/ beside
// bin/) runs the TypeScript sources through tsx, so edits take effect without a build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/src/cli/main.js');
}
