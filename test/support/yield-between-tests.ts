/**
 * One full turn of the event loop after each test (setupFiles in vitest.config.ts): vitest runs a file's
 * synchronous tests back to back without one, so a file of CPU-bound tests (CDK synths) that together outlast the
 * worker's 60 s RPC timeout on a busy machine fails the run though every test passed. Measured with vitest 3.2.7:
 * two 35 s synchronous tests fail the run without this, with a single setImmediate too, and pass with it.
 */
import { afterEach } from 'vitest';
import { turnEventLoop } from './event-loop';

afterEach(() => turnEventLoop());
