/**
 * The task's agent container (runtime/proxysql/agent.sh) beside a local ProxySQL, as ECS runs it: the script from its
 * variable under /bin/sh, the admin password in the environment as ECS injects it, the MariaDB client on PATH (the
 * agent's image has one), ProxySQL's admin interface on 127.0.0.1 (a task's containers share its loopback).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { FIGURES_LINE_MARKER, FIGURES_QUERY } from '../src/config/figures';
import { ADMIN_PASSWORD_ENV, AGENT_ARGV, AGENT_SCRIPT_ENV, PROXYSQL_ADMIN_USER } from '../src/constants';
import { CONTAINER_SCRIPTS } from '../src/runtime-assets';
import type { LocalProxySql } from './proxysql';

export interface LocalAgentOptions {
  /** PROXYSQL_DRAIN_SECONDS: how long the drain may wait for statements and transactions. @default 20 */
  drainSeconds?: number;
  /** PROXYSQL_FIGURES_SECONDS: how often it writes its figures line. @default 0 (never) */
  figuresSeconds?: number;
}

export interface LocalAgent {
  pid: number;
  child: ChildProcess;
  /** What it wrote to stdout (its figures lines) and stderr (its own lines), so far. */
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM (what ECS does first at a task's stop) and resolves with its exit code. */
  terminate(): Promise<number | null>;
  /** Resolves with its exit code once it has exited. */
  exited: Promise<number | null>;
}

export function startLocalAgent(proxy: Pick<LocalProxySql, 'adminPort' | 'adminPassword'>, options: LocalAgentOptions = {}): LocalAgent {
  const [shell, ...args] = AGENT_ARGV;
  const child = spawn(shell, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      [AGENT_SCRIPT_ENV]: fs.readFileSync(CONTAINER_SCRIPTS.agent, 'utf8'),
      [ADMIN_PASSWORD_ENV]: proxy.adminPassword,
      PROXYSQL_ADMIN_PORT: String(proxy.adminPort),
      PROXYSQL_ADMIN_USER: PROXYSQL_ADMIN_USER,
      PROXYSQL_DRAIN_SECONDS: String(options.drainSeconds ?? 20),
      PROXYSQL_FIGURES_SECONDS: String(options.figuresSeconds ?? 0),
      PROXYSQL_FIGURES_QUERY: FIGURES_QUERY,
      PROXYSQL_FIGURES_MARKER: FIGURES_LINE_MARKER,
    },
  });
  if (child.pid === undefined) throw new Error('could not spawn /bin/sh for the agent');
  const out: string[] = [];
  const err: string[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => err.push(d.toString()));
  const exited: Promise<number | null> = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return {
    pid: child.pid,
    child,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    exited,
  };
}
