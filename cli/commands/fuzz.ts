// cli/commands/fuzz.ts — `muster fuzz raft|cluster …`: picks the fuzzer by target.
// Must never: hold fuzzing logic (sim/fuzz, sim/raft) or load the target it was not asked for.

export async function fuzzCommand(args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (what === 'raft') return (await import('./fuzz-raft.ts')).fuzzRaft(rest);
  if (what === 'cluster') return (await import('./fuzz-cluster.ts')).fuzzCluster(rest);
  process.stderr.write(
    `muster fuzz: unknown target '${what ?? ''}'. Use: muster fuzz raft --seeds N [--seed S] [--bug NAME]\n` +
      `                                     or: muster fuzz cluster --seeds N [--seed S] [--servers 3|5] [--clients K] [--bug NAME]\n`,
  );
  return 1;
}
