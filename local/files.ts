/**
 * Small file helpers of the local tools (the MariaDB topology, the CLI's `local` mode, the benchmark): finding an
 * executable on PATH and quoting the end of a log in an error. One copy; cli/local.ts may use them too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A regular file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` in the directories of `pathVariable` (a PATH value), then in `extraDirs`. */
export function findExecutable(name: string, pathVariable: string | undefined = process.env.PATH, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(pathVariable ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  return dirs.map((dir) => path.join(dir, name)).find(isExecutable);
}

/** The last `lines` lines of a log file, or `missing` when it cannot be read. */
export function tail(file: string, lines = 15, missing = '(no log)'): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return missing;
  }
}
