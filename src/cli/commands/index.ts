// The list of CLI commands, in the order `--help` shows them.
import type { CommandModule } from 'yargs';
import { artifactsCommand } from './artifacts.ts';
import { embedCommand } from './embed.ts';
import { evalCommand } from './eval.ts';
import { evalScoresCommand } from './eval-scores.ts';
import { exportCommand } from './export.ts';
import { featuresCommand } from './features.ts';
import { generateCommand } from './generate.ts';
import { infoCommand } from './info.ts';
import { scoreCommand } from './score.ts';
import { serveCommand } from './serve.ts';
import { trainCommand } from './train.ts';

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their argument types.
export const commands: CommandModule<any, any>[] = [
  generateCommand,
  featuresCommand,
  trainCommand,
  evalCommand,
  artifactsCommand,
  exportCommand,
  embedCommand,
  scoreCommand,
  evalScoresCommand,
  serveCommand,
  infoCommand,
];
