/**
 * The users a local stack needs on its MariaDB primary, created by the deploy's own bootstrap code: the monitor
 * user and one application user. Used by `serverless-proxysql local` and the real-ProxySQL harness (./proxysql.ts).
 */
import { bootstrapDatabase, BootstrapLogger } from '../runtime/bootstrap/bootstrap';
import { DEFAULT_MONITOR_USER } from '../src/constants';
import type { MariaDbInstance } from './topology';

export interface LocalUsers {
  readonly monitorPassword: string;
  /** The application user: a login without SUPER, so that read_only applies to it as on RDS/Aurora. */
  readonly app: { readonly username: string; readonly password: string; readonly schema: string };
  /** More application users on the same schema, with the same privileges. @default [] */
  readonly moreApps?: readonly { readonly username: string; readonly password: string }[];
  /** The application user may log in only over TLS, as the bootstrap makes it with `backendTls`. @default false */
  readonly requireSsl?: boolean;
  readonly logger?: BootstrapLogger;
}

/**
 * ALL PRIVILEGES on its schema, DDL included: the tests and a developer's local stack create their tables through
 * the proxy as this user. Given here on purpose; the product's default is DEFAULT_APP_PRIVILEGES (src/constants.ts).
 */
export const LOCAL_APP_PRIVILEGES: readonly string[] = ['ALL PRIVILEGES'];

/** Creates the monitor user (DEFAULT_MONITOR_USER) and the application user on `primary`, logging in as its root. */
export async function createLocalUsers(primary: MariaDbInstance, users: LocalUsers): Promise<void> {
  const { app } = users;
  await bootstrapDatabase({
    host: primary.host,
    port: primary.port,
    admin: { username: primary.rootUser, password: primary.rootPassword },
    monitor: { username: DEFAULT_MONITOR_USER, password: users.monitorPassword },
    users: [app, ...(users.moreApps ?? [])].map((u) => ({
      username: u.username,
      password: u.password,
      schema: app.schema,
      privileges: [...LOCAL_APP_PRIVILEGES],
    })),
    requireSsl: users.requireSsl,
    logger: users.logger,
  });
}
