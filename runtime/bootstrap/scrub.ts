/** Secrets never leave the bootstrap: every message and log line is scrubbed of every form a password may take. */
import * as mysql from 'mysql2/promise';
import type { BootstrapLogger, BootstrapSpec } from './spec';

export const noopLogger: BootstrapLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function secretsOf(spec: BootstrapSpec): string[] {
  return [spec.admin?.password, spec.monitor?.password, ...(spec.users ?? []).map((u) => u?.password)].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}

/** Replaces every form a secret may take in a message (raw, SQL-escaped, JSON-escaped) with ***. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  const forms = new Set<string>();
  for (const s of secrets) {
    forms.add(s);
    forms.add(mysql.escape(s).slice(1, -1));
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  for (const form of [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(form).join('***');
  }
  return out;
}

interface MysqlError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
}

/** The error's code and the server's text, scrubbed. */
export function describeError(err: unknown, secrets: readonly string[]): { code: string; text: string } {
  const e = (err ?? {}) as MysqlError;
  const code = e.code ?? 'UNKNOWN';
  // sqlMessage is the server's text; mysql2's .message/.sql may echo the statement (with a password): not used.
  const text = scrub(e.sqlMessage ?? (e.errno === undefined ? (e.message ?? String(err)) : ''), secrets);
  return { code, text };
}

export function scrubbingLogger(logger: BootstrapLogger, secrets: readonly string[]): BootstrapLogger {
  const clean = (extra?: object) => (extra === undefined ? undefined : (JSON.parse(scrub(JSON.stringify(extra), secrets)) as object));
  return {
    info: (msg, extra) => logger.info(scrub(msg, secrets), clean(extra)),
    warn: (msg, extra) => logger.warn(scrub(msg, secrets), clean(extra)),
    error: (msg, extra) => logger.error(scrub(msg, secrets), clean(extra)),
  };
}
