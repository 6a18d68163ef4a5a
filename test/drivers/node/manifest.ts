/**
 * The Node.js clients of the driver matrix (test/drivers/CONTRACT.md): plain JavaScript ESM programs run with this
 * Node (no build step), each written the way its driver's or ORM's documentation shows; matrix.mjs holds what they
 * share. One process runs every session as an async task, each session its own connection (an ORM: its own
 * instance over a one-connection pool, as one Lambda execution environment serving one request at a time).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DriverClient } from '../client';

const ROOT = path.join(__dirname, '..', '..', '..');

/** The installed version of an npm package (a devDependency of the project). */
function installed(pkg: string): string {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version?: string };
    return `${pkg} ${manifest.version ?? '?'}`;
  } catch {
    return `${pkg} (not installed)`;
  }
}

/** The package line of the report: the packages from npm, an ORM first and the driver under it. */
const npm = (...pkgs: string[]) => `${pkgs.map(installed).join(' over ')} (npm)`;

function node(script: string, ...args: string[]): DriverClient['run'] {
  return () => ({ command: process.execPath, args: [`test/drivers/node/${script}`, ...args] });
}

export const NODE_CLIENTS: readonly DriverClient[] = [
  {
    name: 'mysql2-query',
    language: 'node',
    kind: 'driver',
    packageName: npm('mysql2'),
    workloads: ['rw', 'readonly'],
    run: node('mysql2.mjs', 'query'),
  },
  {
    name: 'mysql2-execute',
    language: 'node',
    kind: 'driver',
    packageName: npm('mysql2'),
    workloads: ['rw'],
    run: node('mysql2.mjs', 'execute'),
  },
  {
    name: 'node-mysql',
    language: 'node',
    kind: 'driver',
    packageName: npm('mysql'),
    workloads: ['rw', 'readonly'],
    run: node('node-mysql.mjs'),
  },
  {
    name: 'knex',
    language: 'node',
    kind: 'orm',
    packageName: npm('knex', 'mysql2'),
    workloads: ['rw'],
    run: node('knex.mjs'),
  },
  {
    name: 'sequelize',
    language: 'node',
    kind: 'orm',
    packageName: npm('sequelize', 'mysql2'),
    workloads: ['rw'],
    run: node('sequelize.mjs'),
  },
  {
    name: 'typeorm',
    language: 'node',
    kind: 'orm',
    packageName: npm('typeorm', 'mysql2'),
    workloads: ['rw'],
    run: node('typeorm.mjs'),
  },
  {
    name: 'drizzle',
    language: 'node',
    kind: 'orm',
    packageName: npm('drizzle-orm', 'mysql2'),
    workloads: ['rw'],
    run: node('drizzle.mjs'),
  },
];
