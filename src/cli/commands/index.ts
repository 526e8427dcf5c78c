// The list of CLI commands, in the order `--help` shows them.
import type { CommandModule } from 'yargs';
import { artifactsCommand } from './artifacts.ts';
import { evalCommand } from './eval.ts';
import { featuresCommand } from './features.ts';
import { generateCommand } from './generate.ts';
import { trainCommand } from './train.ts';

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their argument types.
export const commands: CommandModule<any, any>[] = [
  generateCommand,
  featuresCommand,
  trainCommand,
  evalCommand,
  artifactsCommand,
];
