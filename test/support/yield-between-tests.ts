/**
 * One full turn of the event loop after each test (setupFiles in vitest.config.ts). A vitest worker reads the
 * runner's RPC replies only in the loop's poll phase, and runs a file's synchronous tests back to back without
 * one: a file of CPU-bound tests (CDK synths) that together outlast the fixed 60 s RPC timeout on a busy machine
 * fails the run ("Timeout calling onTaskUpdate") though every test passed. Two setImmediates, because one queued
 * from the poll phase runs before the next poll. Measured with vitest 3.2.7: two 35 s synchronous tests fail the
 * run without this, with one setImmediate too, and pass with it.
 */
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve))));
