/** The matrix's Ruby clients (test/drivers/CONTRACT.md): the mysql2 gem and ActiveRecord over it. */
import * as path from 'node:path';
import type { DriverClient } from '../client';

const MYSQL2 = 'ruby-mysql2 0.5.3-4+b1 (Debian; mysql2 0.5.3 on libmariadb3 1:10.11.19-0+deb12u1, Ruby 3.1.2)';

export const RUBY_CLIENTS: readonly DriverClient[] = [
  {
    name: 'ruby-mysql2',
    language: 'ruby',
    kind: 'driver',
    packageName: MYSQL2,
    workloads: ['rw', 'readonly'],
    run: () => ({ command: 'ruby', args: [path.join(__dirname, 'mysql2_client.rb')] }),
  },
  {
    name: 'activerecord',
    language: 'ruby',
    kind: 'orm',
    packageName: `ruby-activerecord 2:6.1.7.10+dfsg-1~deb12u4 (Debian; ActiveRecord 6.1.7.10 over ${MYSQL2})`,
    workloads: ['rw'],
    run: () => ({ command: 'ruby', args: [path.join(__dirname, 'activerecord.rb')] }),
  },
];
