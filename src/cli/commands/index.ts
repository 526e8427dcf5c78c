// The list of CLI commands, in the order `--help` shows them: each command's usage line and summary, and
// how to load its module. Modules load only when their command runs, so `--help` and `--version` start
// without ONNX Runtime or the data readers.
import type { CommandModule } from 'yargs';

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their argument types.
export type AnyCommand = CommandModule<any, any>;

/** A command as `--help` lists it, and the loader of its full definition (flags, handler). */
export interface CommandEntry {
  /** Usage line, e.g. `train [inputs..]`; the first word is the command's name. */
  command: string;
  describe: string;
  load(): Promise<AnyCommand>;
}

export const commands: readonly CommandEntry[] = [
  {
    command: 'generate',
    describe: 'Write synthetic OCSF events with labelled anomalies (JSONL or Parquet)',
    load: async () => (await import('./generate.ts')).generateCommand,
  },
  {
    command: 'features <inputs...>',
    describe: 'Fit a feature spec on OCSF events, print it as a table and optionally save it',
    load: async () => (await import('./features.ts')).featuresCommand,
  },
  {
    command: 'train [inputs..]',
    describe:
      'Train an embedding model on OCSF events (JSONL, JSON, Parquet, Arrow; files, directories or globs)',
    load: async () => (await import('./train.ts')).trainCommand,
  },
  {
    command: 'eval <run> <inputs..>',
    describe: "A run's validation loss and embedding statistics on new events",
    load: async () => (await import('./eval.ts')).evalCommand,
  },
  {
    command: 'artifacts',
    describe:
      'Write the training graphs (train/eval step, encoder), initial weights and manifest for a model config',
    load: async () => (await import('./artifacts.ts')).artifactsCommand,
  },
  {
    command: 'export <run>',
    describe: 'Write model.onnx (raw OCSF fields in, embeddings out) from a run checkpoint',
    load: async () => (await import('./export.ts')).exportCommand,
  },
  {
    command: 'embed [inputs..]',
    describe: 'Embed OCSF events with model.onnx; writes Arrow, .npy or JSON lines',
    load: async () => (await import('./embed.ts')).embedCommand,
  },
  {
    command: 'score [inputs..]',
    describe:
      "Score OCSF events for anomalies against a run's reference events; writes JSONL, CSV or Parquet",
    load: async () => (await import('./score.ts')).scoreCommand,
  },
  {
    command: 'eval-scores <scores>',
    describe: 'Evaluate a scores file against labels: ROC-AUC, PR-AUC, precision/recall, precision@k, curves',
    load: async () => (await import('./eval-scores.ts')).evalScoresCommand,
  },
  {
    command: 'serve',
    describe:
      'Serve a trained run over HTTP: POST /embed, POST /score, POST /v1/logs (OTLP JSON), GET /health, GET /metrics',
    load: async () => (await import('./serve.ts')).serveCommand,
  },
  {
    command: 'consume',
    describe:
      'Score OCSF events from a NATS JetStream stream (a durable consumer shared by any number of workers); findings out',
    load: async () => (await import('./consume.ts')).consumeCommand,
  },
  {
    command: 'info <path>',
    describe: 'Show what a run directory or model.onnx holds (config, spec, inputs/outputs, training, files)',
    load: async () => (await import('./info.ts')).infoCommand,
  },
];

/** A command's name: the first word of its usage line. */
export function commandName(entry: Pick<CommandEntry, 'command'>): string {
  return entry.command.split(' ')[0]!;
}

/**
 * The yargs command list for `argv`: the full module of the command it names (loaded now), and for every
 * other command only its usage line and summary, which is all that `--help` and typo suggestions need.
 */
export async function commandsFor(argv: readonly string[]): Promise<AnyCommand[]> {
  const named = argv.find((a) => !a.startsWith('-'));
  return Promise.all(
    commands.map(async (entry) => {
      if (commandName(entry) === named) return { ...(await entry.load()), command: entry.command };
      return {
        command: entry.command,
        describe: entry.describe,
        handler: () => {
          throw new Error(`the ${commandName(entry)} command ran without its module loaded`);
        },
      };
    }),
  );
}
