/**
 * The cached MariaDB data dir under the shared temp dir is copied into every instance: one another user put there
 * first (or could change) must not be used.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findMariaDbBinaries, startTopology, templateDirProblem } from './topology';
import { output } from './run';

const uid = process.getuid?.() ?? 0;
const dirs: string[] = [];
function privateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'template-check-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('templateDirProblem', () => {
  it('takes a directory of this user that only it can write', () => {
    const dir = privateDir();
    for (const mode of [0o700, 0o755, 0o750]) {
      fs.chmodSync(dir, mode);
      expect(templateDirProblem(dir, uid)).toBeUndefined();
    }
  });

  it('refuses one writable by its group or others, another user’s, a symlink, a file, or nothing', () => {
    const dir = privateDir();
    fs.chmodSync(dir, 0o775);
    expect(templateDirProblem(dir, uid)).toBe('is writable by its group or by others (mode 0775)');
    fs.chmodSync(dir, 0o1777);
    expect(templateDirProblem(dir, uid)).toBe('is writable by its group or by others (mode 1777)');
    fs.chmodSync(dir, 0o700);
    expect(templateDirProblem(dir, uid + 1)).toBe(`belongs to uid ${uid}, not to this user (uid ${uid + 1})`);
    const link = path.join(privateDir(), 'link');
    fs.symlinkSync(dir, link);
    expect(templateDirProblem(link, uid)).toBe('is a symbolic link');
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    expect(templateDirProblem(file, uid)).toBe('is not a directory');
    expect(templateDirProblem(path.join(dir, 'missing'), uid)).toBe('cannot be read (ENOENT)');
  });
});

describe('startTopology with a cached data dir it did not make', () => {
  it('refuses a world-writable one before starting anything, naming it and the way out', async () => {
    const tmp = privateDir();
    const version = (await output(findMariaDbBinaries().mariadbd, ['--version'])).match(/Ver\s+(\S+)/)?.[1]?.replace(/[^A-Za-z0-9._-]/g, '_');
    const planted = path.join(tmp, `serverless-proxysql-mariadb-template-${version}`);
    fs.mkdirSync(path.join(planted, 'mysql'), { recursive: true });
    fs.chmodSync(planted, 0o777);
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await expect(startTopology({ baseDir: tmp })).rejects.toThrow(
        `refusing to use the cached MariaDB data dir ${planted}: it is writable by its group or by others (mode 0777), so someone else may have made or changed it. Remove it (it is reinstalled on the next run), or set TMPDIR to a directory only you can write`,
      );
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
    // nothing was started in the base dir
    expect(fs.readdirSync(tmp)).toEqual([path.basename(planted)]);
  });
});
