/**
 * `doctor`: connects to a ProxySQL admin interface and shows at a glance the servers, the pool, the multiplexing
 * ratio, the sessions that hold a backend connection and why, and the statements that pin, each with its fix.
 * Exit 0: nothing needs attention; 3: something does; 2: usage; 1: cannot log in to the admin interface (refused,
 * unreachable or silent: ./doctor/fetch.ts connectFailure says which).
 */
import * as mysql from 'mysql2/promise';
import { PROXYSQL_ADMIN_PORT, PROXYSQL_ADMIN_USER } from '../src/constants';
import { defineCommand, helpText, parseCommand } from './command-table';
import { CLI_NAME, ENV_NAME_PATTERN, parseHostPort, UsageError } from './common';
import { analyze, formatReport } from './doctor/analyze';
import { connectFailure, fetchSnapshot } from './doctor/fetch';

export const EXIT_ATTENTION = 3;

export const DOCTOR_COMMAND = defineCommand({
  name: 'doctor',
  summary: 'read a ProxySQL admin interface: pool, multiplexing, pinned sessions and why, with fixes',
  usage: [`${CLI_NAME} doctor [--admin HOST:PORT] [--user NAME] --password-env VAR [--json] [--watch SECONDS]`],
  description: `Reads ProxySQL's admin interface and shows: servers per hostgroup with status and pool use, the multiplexing ratio
(client sessions per backend connection in use), each reason idle sessions hold a backend connection (user
variable, temporary table, GET_LOCK, LOCK TABLES, PREPARE, SQL_CALC_FOUND_ROWS, open transaction) with its fix,
the statements that pin, and the costliest digests. Exits ${EXIT_ATTENTION} when something needs attention.`,
  options: [
    { name: 'admin', value: 'HOST:PORT', default: `127.0.0.1:${PROXYSQL_ADMIN_PORT}`, help: 'the admin interface' },
    { name: 'user', value: 'NAME', default: PROXYSQL_ADMIN_USER, help: 'admin user' },
    { name: 'password-env', value: 'VAR', help: 'name of the environment variable holding the admin password (required; never printed)' },
    { name: 'json', help: 'machine-readable report' },
    { name: 'watch', value: 'SECONDS', help: 'print the report again every SECONDS (1-3600) until interrupted' },
  ],
  epilogue: `A deployed task's admin interface listens on 127.0.0.1:${PROXYSQL_ADMIN_PORT} inside the task; forward it with ECS Exec
(docs/operations.md, "Reach the admin interface"), then:
  PROXYSQL_ADMIN_PASSWORD=… ${CLI_NAME} doctor --admin 127.0.0.1:16032 --password-env PROXYSQL_ADMIN_PASSWORD`,
});

export interface DoctorIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** How long to wait for the admin interface's handshake (tests shorten it). @default 5000 */
  connectTimeoutMs?: number;
}

const CONNECT_TIMEOUT_MS = 5000;

export async function doctorCommand(args: readonly string[], io: DoctorIo): Promise<number> {
  let options;
  try {
    const parsed = parseCommand(DOCTOR_COMMAND, args);
    if (parsed.help) {
      io.stdout(helpText(DOCTOR_COMMAND));
      return 0;
    }
    const admin = parseHostPort(parsed.withDefault('admin'), '--admin', PROXYSQL_ADMIN_PORT);
    const envName = parsed.string('password-env');
    if (envName === undefined) throw new UsageError('--password-env VAR is required: the name of the variable that holds the admin password');
    if (!ENV_NAME_PATTERN.test(envName)) throw new UsageError(`--password-env takes a variable NAME (e.g. PROXYSQL_ADMIN_PASSWORD), not '${envName}'`);
    const password = io.env[envName];
    if (password === undefined || password === '') throw new UsageError(`--password-env ${envName}: the variable is not set`);
    const watchText = parsed.string('watch');
    const watch = watchText === undefined ? undefined : Number(watchText);
    if (watch !== undefined && (!Number.isFinite(watch) || watch < 1 || watch > 3600)) throw new UsageError(`--watch '${watchText}': give 1 to 3600 seconds`);
    options = { admin, user: parsed.withDefault('user'), password, passwordEnv: envName, json: parsed.flag('json'), watch };
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${CLI_NAME} doctor: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
  let conn: mysql.Connection;
  const connectTimeoutMs = io.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  try {
    conn = await mysql.createConnection({
      host: options.admin.host,
      port: options.admin.port,
      user: options.user,
      password: options.password,
      connectTimeout: connectTimeoutMs,
    });
  } catch (error) {
    io.stderr(`${CLI_NAME} doctor: ${connectFailure(error, { ...options.admin, user: options.user, passwordEnv: options.passwordEnv, connectTimeoutMs })}\n`);
    return 1;
  }
  try {
    for (;;) {
      const report = analyze(await fetchSnapshot(conn));
      io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      if (options.watch === undefined) return report.problems.length > 0 ? EXIT_ATTENTION : 0;
      await new Promise((r) => setTimeout(r, (options.watch as number) * 1000));
      if (!options.json) io.stdout(`--- ${new Date().toISOString()}\n`);
    }
  } finally {
    await conn.end().catch(() => undefined);
  }
}
