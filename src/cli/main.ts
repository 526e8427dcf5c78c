// The `ocsf-embed` command line: wires the command list into yargs (loading only the named command's
// module) and reports errors.
import { createRequire } from 'node:module';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isUserFacing } from '../core/errors.ts';
import { fileSystemError } from '../io/atomic.node.ts';
import { commandsFor } from './commands/index.ts';

/**
 * Long options whose value may be `-` (standard output). yargs-parser takes a lone `-` after a long option
 * for a positional (`--out -` gave an empty --out), as it does not after a short one (`-o -`).
 */
const DASH_VALUED = new Set(['--out']);

/**
 * The arguments with `--out -` written as `--out=-`, and any other lone `-` but the value of `-o` (an input:
 * standard input, which yargs would drop) as /dev/stdin, which the readers take for standard input; up to
 * a `--` that ends the options.
 */
function joinDashValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return joined.concat(args.slice(i));
    if (DASH_VALUED.has(arg) && args[i + 1] === '-') {
      joined.push(`${arg}=-`);
      i++;
    } else if (arg === '-' && args[i - 1] !== '-o') joined.push('/dev/stdin');
    else joined.push(arg);
  }
  return joined;
}

const argv = joinDashValues(hideBin(process.argv));
const { version } = createRequire(import.meta.url)('ocsf-embed/package.json') as { version: string };
const cli = yargs(argv)
  .scriptName('ocsf-embed')
  .version(version)
  .command(await commandsFor(argv))
  .demandCommand(1, 'Name a command; `ocsf-embed --help` lists them.')
  .strict()
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((message, error) => {
    if (error && !isUserFacing(error)) throw error;
    // A required option's own message says what to type: show it instead of yargs' "Missing required argument".
    const said = /^Missing required arguments?: /.test(message ?? '') ? message.split('\n').slice(1) : [];
    const text = error?.message ?? (said.length ? said.join('; ') : message);
    throw Object.assign(new Error(text), { userFacing: true, usage: !error });
  });

/**
 * Reports an error in one line: user errors (and write failures such as a full disk) exit 2; anything
 * else is a defect, reported in one line with exit 1 (OCSF_EMBED_DEBUG=1 adds the stack trace).
 */
function report(e: unknown): void {
  const err = isUserFacing(e) ? e : fileSystemError(e);
  if (isUserFacing(err)) {
    console.error(`ocsf-embed: ${err.message}`);
    if ((err as { usage?: boolean }).usage) console.error('Run with --help to see the options and examples.');
    process.exitCode = 2;
    return;
  }
  const message = e instanceof Error ? e.message : String(e);
  console.error(
    `ocsf-embed: internal error: ${message.split('\n')[0]} (please report it with the command you ran; OCSF_EMBED_DEBUG=1 shows where it happened)`,
  );
  if (process.env.OCSF_EMBED_DEBUG) console.error(e);
  process.exitCode = 1;
}

process.on('uncaughtException', (e) => {
  report(e);
  process.exit();
});
process.on('unhandledRejection', (e) => {
  report(e);
  process.exit();
});

try {
  await cli.parseAsync();
} catch (e) {
  report(e);
}
