import { describe, expect, it } from 'vitest';
import { output, run } from './run';

describe('run', () => {
  it('keeps the event loop turning while the child runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    try {
      const result = await run('/bin/sh', ['-c', 'sleep 0.5']);
      expect(result.status).toBe(0);
    } finally {
      clearInterval(timer);
    }
    // execFileSync would leave this at 0
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it("returns spawnSync's status, output and pid, feeds input, and never rejects for a failure", async () => {
    const result = await run('/bin/sh', ['-c', 'cat; echo err >&2; echo $$; exit 3'], { input: 'in\n', env: { PATH: '/usr/bin:/bin' } });
    expect(result).toMatchObject({ status: 3, signal: null, stderr: 'err\n' });
    expect(result.stdout).toBe(`in\n${result.pid}\n`);
    expect(result.error).toBeUndefined();
  });

  it('says why a command never started, and kills one that outlasts timeoutMs', async () => {
    const missing = await run('/nonexistent/command', []);
    expect(missing.status).toBeNull();
    expect(missing.error?.message).toMatch(/ENOENT/);
    const started = Date.now();
    const slow = await run('/bin/sh', ['-c', 'exec sleep 5'], { timeoutMs: 200 });
    expect(slow).toMatchObject({ status: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('output', () => {
  it('returns the stdout of a command that exits 0, and rejects naming one that does not, with its stderr', async () => {
    expect(await output('/bin/sh', ['-c', 'printf "%s" "$0"', 'x y'])).toBe('x y');
    await expect(output('/bin/sh', ['-c', 'echo nope >&2; exit 2'])).rejects.toThrow("/bin/sh -c echo nope >&2; exit 2 exited with status 2:\nnope");
    await expect(output('/nonexistent/command', ['a'])).rejects.toThrow(/^\/nonexistent\/command a could not start: .*ENOENT/);
  });
});
