/**
 * Lambda entry point of the demo API (bundled by the DemoApi construct). Module scope runs once per execution
 * environment; the connection and credentials are created lazily on the first invocation and then reused.
 */
import { createDemoHandler } from './app';
import { fromEnvironment } from './environment';

export const handler = createDemoHandler(fromEnvironment());
