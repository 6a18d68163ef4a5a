/**
 * The matrix's PHP clients (test/drivers/CONTRACT.md): PDO_MySQL, mysqli and Doctrine DBAL. PHP has no threads, so
 * each process runs one session and the runner starts DRV_SESSIONS of them.
 */
import * as path from 'node:path';
import type { DriverClient } from '../client';

const PHP_MYSQL = 'php8.2-mysql 8.2.36-1~deb12u1 (Debian; mysqlnd, PHP 8.2.36)';

function php(script: string): DriverClient['run'] {
  return () => ({ command: 'php', args: [path.join(__dirname, script)] });
}

export const PHP_CLIENTS: readonly DriverClient[] = [
  {
    name: 'pdo-mysql',
    language: 'php',
    kind: 'driver',
    packageName: `${PHP_MYSQL}: PDO_MySQL`,
    workloads: ['rw', 'readonly'],
    run: php('pdo.php'),
    oneSessionPerProcess: true,
  },
  {
    name: 'mysqli',
    language: 'php',
    kind: 'driver',
    packageName: `${PHP_MYSQL}: mysqli`,
    workloads: ['rw', 'readonly'],
    run: php('mysqli.php'),
    oneSessionPerProcess: true,
  },
  {
    name: 'doctrine-dbal',
    language: 'php',
    kind: 'orm',
    packageName: `php-doctrine-dbal 3.6.1+dfsg-1 (Debian; Doctrine DBAL 3.6.1 over PDO_MySQL, ${PHP_MYSQL})`,
    workloads: ['rw'],
    run: php('dbal.php'),
    oneSessionPerProcess: true,
  },
];
