/** The matrix's Java client (test/drivers/CONTRACT.md): MariaDB Connector/J through plain JDBC. */
import * as path from 'node:path';
import type { DriverClient } from '../client';

/** Debian's libmariadb-java installs the connector here (a link to mariadb-java-client-<version>.jar). */
const CONNECTOR_J_JAR = '/usr/share/java/mariadb-java-client.jar';

export const JAVA_CLIENTS: readonly DriverClient[] = [
  {
    name: 'connector-j',
    language: 'java',
    kind: 'driver',
    packageName: 'libmariadb-java 2.7.6-1 (Debian; MariaDB Connector/J 2.7.6 on openjdk-17 17.0.15+6-1~deb12u1)',
    workloads: ['rw', 'readonly'],
    build: (buildDir) => ({
      command: 'javac',
      args: ['-d', path.join(buildDir, 'java'), '-cp', CONNECTOR_J_JAR, path.join(__dirname, 'Matrix.java'), path.join(__dirname, 'ConnectorJ.java')],
    }),
    run: (buildDir) => ({ command: 'java', args: ['-cp', `${path.join(buildDir, 'java')}:${CONNECTOR_J_JAR}`, 'ConnectorJ'] }),
  },
];
