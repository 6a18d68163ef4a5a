/**
 * Child processes that never block the event loop. A vitest worker answers the runner's RPC with a fixed 60 s
 * timeout, and a reply is read only when the event loop turns: an `execFileSync` of npm, a shell or
 * mariadb-install-db that outlasts it on a busy machine fails a run whose tests all passed. The tests, their
 * helpers and the local topology run their commands through `run` (spawnSync's result) or `output`
 * (execFileSync's stdout); ESLint forbids the synchronous calls there (eslint.config.mjs).
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** SIGKILL after this many ms (the result's signal says so). @default no limit */
  timeoutMs?: number;
}

export interface RunResult {
  /** The exit status, or null when the process died of a signal or never started. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number | undefined;
  /** Why it never started (ENOENT, EACCES), as spawnSync's `error`. */
  error?: Error;
}

/** Runs a command to its end and resolves with its status and output, as spawnSync returns them; never rejects. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    let failed: Error | undefined;
    const settle = (status: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        pid: child.pid,
        ...(failed ? { error: failed } : {}),
      });
    };
    child.on('error', (e) => {
      failed = e;
      // A child that never started emits no 'close' on every Node version.
      if (child.pid === undefined) settle(null, null);
    });
    child.on('close', settle);
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The stdout of a command that must exit 0, as execFileSync returns it; otherwise rejects naming it, with its stderr. */
export async function output(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.status === 0) return result.stdout;
  const how = result.error ? `could not start: ${result.error.message}` : result.signal ? `was killed by ${result.signal}` : `exited with status ${result.status}`;
  throw new Error(`${[command, ...args].join(' ')} ${how}${result.stderr.trim() ? `:\n${result.stderr.trim()}` : ''}`);
}
