// The `ocsf-embed` command line: wires the command list into yargs and reports errors.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isUserFacing } from '../core/errors.ts';
import { commands } from './commands/index.ts';

const cli = yargs(hideBin(process.argv))
  .scriptName('ocsf-embed')
  .command(commands)
  .demandCommand(1, 'Name a command; `ocsf-embed --help` lists them.')
  .strict()
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((message, error) => {
    if (error && !isUserFacing(error)) throw error;
    throw Object.assign(new Error(error?.message ?? message), { userFacing: true, usage: !error });
  });

try {
  await cli.parseAsync();
} catch (e) {
  if (!isUserFacing(e)) throw e;
  console.error(`ocsf-embed: ${e.message}`);
  if ((e as { usage?: boolean }).usage) console.error('Run with --help to see the options and examples.');
  process.exitCode = 2;
}
