// The `ocsf-embed` command line: wires the command list into yargs and reports errors.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
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
  .fail((message, error, y) => {
    if (error && !(error as { userFacing?: boolean }).userFacing) throw error;
    console.error(`ocsf-embed: ${error?.message ?? message}`);
    console.error('Run with --help to see the options and examples.');
    void y;
    process.exitCode = 2;
  });

await cli.parseAsync();
