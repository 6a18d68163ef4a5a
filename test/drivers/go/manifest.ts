/**
 * The matrix's Go client (test/drivers/CONTRACT.md): go-sql-driver/mysql through database/sql, built offline in
 * GOPATH mode against Debian's copy of the driver (/usr/share/gocode).
 */
import * as path from 'node:path';
import type { DriverClient } from '../client';

export const GO_CLIENTS: readonly DriverClient[] = [
  {
    name: 'go-sql-driver',
    language: 'go',
    kind: 'driver',
    packageName: 'golang-github-go-sql-driver-mysql-dev 1.5.0-2 (Debian; go-sql-driver/mysql 1.5.0 on golang-1.19-go 1.19.8-2)',
    workloads: ['rw', 'readonly'],
    build: (buildDir) => ({
      command: 'go',
      args: ['build', '-o', path.join(buildDir, 'go', 'go-sql-driver'), path.join(__dirname, 'main.go'), path.join(__dirname, 'matrix.go')],
      env: {
        GO111MODULE: 'off',
        GOPATH: `${path.resolve(buildDir, 'go', 'gopath')}:/usr/share/gocode`,
        GOCACHE: path.resolve(buildDir, 'go', 'cache'),
        GOFLAGS: '',
      },
    }),
    run: (buildDir) => ({ command: path.join(buildDir, 'go', 'go-sql-driver'), args: [] }),
  },
];
