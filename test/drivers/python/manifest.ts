/**
 * The Python clients of the driver matrix (test/drivers/CONTRACT.md). They import Debian's packages, which only
 * Debian's own interpreter sees, so they run with /usr/bin/python3 (not a pyenv or virtualenv python3 on PATH);
 * `-B` keeps the shared helper (matrix.py) from leaving a __pycache__ in the repository.
 */
import type { DriverClient } from '../client';

const PYTHON = '/usr/bin/python3';

function python(name: string, kind: DriverClient['kind'], packageName: string, workloads: DriverClient['workloads']): DriverClient {
  return {
    name,
    language: 'python',
    kind,
    packageName,
    workloads,
    run: () => ({ command: PYTHON, args: ['-B', `test/drivers/python/${name}_client.py`] }),
  };
}

export const PYTHON_CLIENTS: readonly DriverClient[] = [
  python('pymysql', 'driver', 'python3-pymysql 1.0.2 (Debian 1.0.2-2+deb12u1)', ['rw', 'readonly']),
  python('mysqldb', 'driver', 'python3-mysqldb (mysqlclient) 1.4.6 (Debian 1.4.6-2+b1)', ['rw', 'readonly']),
  python('sqlalchemy', 'orm', 'python3-sqlalchemy 1.4.46 (Debian 1.4.46+ds1-1) on mysqlclient 1.4.6', ['rw', 'readonly']),
  python('django', 'orm', 'python3-django 3.2.25 (Debian 3:3.2.25-0+deb12u7) on mysqlclient 1.4.6', ['rw']),
];
