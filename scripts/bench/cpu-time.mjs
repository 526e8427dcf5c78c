// Preloaded (`node --import`) into a timed command: prints the process's CPU seconds (all threads, user +
// system) as the last line of stderr when it exits, so that a benchmark on a shared machine can report
// CPU time beside wall time.
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  process.stderr.write(`\ncpu-seconds ${((user + system) / 1e6).toFixed(3)}\n`);
});
