import * as fs from 'fs';
import * as path from 'path';

const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'];

/**
 * `projectRoot` and `depsLockFilePath` for this library's NodejsFunctions, found from this file's location,
 * not from the process's working directory: `npm run synth` run from any folder, and an app that installs
 * the library under node_modules, both bundle the same way. Walks up to the nearest lock file (this repo's,
 * or the consuming project's).
 */
export function lambdaBundlingPaths(): { projectRoot: string; depsLockFilePath: string } {
  let dir = __dirname;
  for (;;) {
    for (const name of LOCK_FILES) {
      const candidate = path.join(dir, name);
      if (fs.existsSync(candidate)) return { projectRoot: dir, depsLockFilePath: candidate };
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`serverless-proxysql: no lock file (${LOCK_FILES.join(', ')}) above ${__dirname}; bundling its Lambda functions needs one`);
    }
    dir = parent;
  }
}
