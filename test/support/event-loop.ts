/**
 * One full turn of the event loop, its I/O poll phase included. A vitest worker reads the runner's RPC replies only
 * in the poll phase and fails the run when one waits past a fixed 60 s ("Timeout calling onTaskUpdate"), so
 * synchronous work that can last a minute on a busy machine (hundreds of CDK synths) takes a turn between pieces.
 * Two setImmediates, because one queued from the poll phase runs before the next poll.
 */
export function turnEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
