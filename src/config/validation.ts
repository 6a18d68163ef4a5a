/**
 * Naming and privilege rules shared by the bootstrap (runtime, checks before any SQL) and the
 * DatabaseBootstrap construct (synth time, fails the build early). It imports only the dependency-free
 * constants: the construct must not load mysql2 at synth time.
 */

import { SCHEMA_PATTERN, USERNAME_PATTERN } from '../constants';

export { SCHEMA_PATTERN, USERNAME_PATTERN };

/** Schema-level privileges an application user may be given (MySQL 8.0 reference, "Privileges Provided by MySQL"). */
export const ALLOWED_PRIVILEGES: readonly string[] = [
  'ALL PRIVILEGES',
  'ALTER',
  'ALTER ROUTINE',
  'CREATE',
  'CREATE ROUTINE',
  'CREATE TEMPORARY TABLES',
  'CREATE VIEW',
  'DELETE',
  'DROP',
  'EVENT',
  'EXECUTE',
  'INDEX',
  'INSERT',
  'LOCK TABLES',
  'REFERENCES',
  'SELECT',
  'SHOW VIEW',
  'TRIGGER',
  'UPDATE',
];

/** Accounts the bootstrap must never touch (besides the admin user itself). */
export const RESERVED_USERNAMES: readonly string[] = ['root', 'rdsadmin', 'rdsrepladmin', 'rdsproxyadmin'];

/** Upper-case, single spaces; ALL is ALL PRIVILEGES. */
export function normalisePrivilege(privilege: string): string {
  const p = privilege.trim().replace(/\s+/g, ' ').toUpperCase();
  return p === 'ALL' ? 'ALL PRIVILEGES' : p;
}

/** Why `username` cannot be used (as `field`), or undefined when it can. */
export function usernameProblem(field: string, username: unknown, adminUsername?: string): string | undefined {
  if (typeof username !== 'string' || !USERNAME_PATTERN.test(username)) {
    return `${field} ${JSON.stringify(username)} is not a valid user name: use 1-32 characters of A-Z, a-z, 0-9 and _`;
  }
  if (RESERVED_USERNAMES.includes(username.toLowerCase()) || username === adminUsername) {
    return `${field} '${username}' is reserved (the admin user or an RDS/MySQL system account): choose another user name`;
  }
  return undefined;
}

export function schemaProblem(field: string, schema: unknown): string | undefined {
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    return `${field} ${JSON.stringify(schema)} is not a valid schema name: use 1-64 characters of A-Z, a-z, 0-9 and _`;
  }
  return undefined;
}

export function privilegesProblem(field: string, privileges: unknown): string | undefined {
  if (!Array.isArray(privileges) || privileges.length === 0) {
    return `${field} is empty: pass e.g. ['ALL PRIVILEGES'] or ['SELECT', 'INSERT', 'UPDATE', 'DELETE']`;
  }
  for (let j = 0; j < privileges.length; j++) {
    const p: unknown = privileges[j];
    if (typeof p !== 'string' || !ALLOWED_PRIVILEGES.includes(normalisePrivilege(p))) {
      return `${field}[${j}] ${JSON.stringify(p)} is not an allowed schema privilege: use one of ${ALLOWED_PRIVILEGES.join(', ')}`;
    }
  }
  return undefined;
}
