// Ctrl-C during a long command: the first asks the work to stop at a safe point (an AbortSignal the
// library listens to), the second ends the process at once with the conventional status 130.

/** An AbortSignal fired by the first SIGINT; `dispose` removes the handler. */
export function interruptOnSigint(say = true): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (say) console.log('\ninterrupted: saving a checkpoint after this step (Ctrl-C again to abort)');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.removeListener('SIGINT', onSigint) };
}
