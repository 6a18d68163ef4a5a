/**
 * The open-file limit check. Every session holds one TCP socket (one file descriptor) while connected, so 5,000
 * sessions need 5,000+ descriptors; Node cannot raise its own RLIMIT_NOFILE (there is no setrlimit binding), so
 * the limit is checked up front and the error says how to raise it in the shell that starts the benchmark.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/** Descriptors Node, the MySQL admin/probe connections and stdio use besides the sessions' sockets. */
export const FD_HEADROOM = 128;

/** The soft RLIMIT_NOFILE of this process, or undefined when it cannot be read (non-Linux without a shell). */
export function openFileLimit(): number | undefined {
  try {
    // Linux: "Max open files            20000                20000                files"
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\S+)/m.exec(limits);
    if (match) return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    // not Linux: ask a shell (a child inherits this process's limit)
  }
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out);
  } catch {
    return undefined;
  }
}

/** Descriptors a run with this many sessions and extra connections needs. */
export function descriptorsNeeded(sessions: number, extraConnections: number): number {
  return sessions + extraConnections + FD_HEADROOM;
}

/** Throws an error explaining how to raise `ulimit -n` when `limit` is below what the run needs. */
export function assertOpenFileLimit(sessions: number, extraConnections: number, limit = openFileLimit()): void {
  const needed = descriptorsNeeded(sessions, extraConnections);
  if (limit === undefined || limit >= needed) return;
  throw new Error(
    `the open-file limit (ulimit -n) is ${limit}, but ${sessions} sessions need about ${needed} file descriptors ` +
      `(one socket per session plus ${extraConnections + FD_HEADROOM} for admin connections and Node itself). ` +
      `Raise it in the shell that runs the benchmark, e.g. 'ulimit -n ${Math.max(needed, 8192)}' (up to the hard limit ` +
      `'ulimit -Hn'; beyond that edit /etc/security/limits.conf or the container's nofile ulimit), or run fewer --sessions.`,
  );
}
