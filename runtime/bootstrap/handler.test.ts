import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTopology, Topology } from '../../local/topology';
import { BootstrapResourceProperties, createOnEventHandler, GetSecret, powertoolsLogger, tlsFromProperties, SecretValue } from './handler';

const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

describe('onEvent handler in-process against MariaDB', () => {
  let topology: Topology;
  const secrets = new Map<string, SecretValue>();
  const getSecret: GetSecret = async (arn) => {
    const value = secrets.get(arn);
    if (!value) throw new Error(`secret ${arn} not found`);
    return value;
  };
  // The real Powertools logger; its JSON lines are captured from stdout/stderr to check no password leaks.
  const stdout: string[] = [];
  let onEvent: ReturnType<typeof createOnEventHandler>;

  const props = (overrides: Partial<BootstrapResourceProperties> = {}): BootstrapResourceProperties => ({
    DatabaseHost: '127.0.0.1',
    DatabasePort: String(topology.primary.port),
    AdminSecretArn: ARN('admin'),
    MonitorUsername: 'proxysql_monitor',
    MonitorSecretArn: ARN('monitor'),
    Users: JSON.stringify([{ username: 'app', secretArn: ARN('app'), schema: 'app', privileges: ['ALL PRIVILEGES'] }]),
    DropUsersOnDelete: 'false',
    WaitForDatabaseMs: '2000',
    Ssl: 'false',
    Revision: '1',
    ...overrides,
  });

  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1',
    RequestId: 'req-1',
    LogicalResourceId: 'Bootstrap',
    ResourceType: 'Custom::DatabaseBootstrap',
  };
  const create = (p: BootstrapResourceProperties): CloudFormationCustomResourceEvent => ({ ...common, RequestType: 'Create', ResourceProperties: { ServiceToken: common.ServiceToken, ...p } });
  const update = (id: string, p: BootstrapResourceProperties, old: BootstrapResourceProperties): CloudFormationCustomResourceEvent => ({
    ...common, RequestType: 'Update', PhysicalResourceId: id,
    ResourceProperties: { ServiceToken: common.ServiceToken, ...p }, OldResourceProperties: { ServiceToken: common.ServiceToken, ...old },
  });
  const del = (id: string, p: BootstrapResourceProperties): CloudFormationCustomResourceEvent => ({
    ...common, RequestType: 'Delete', PhysicalResourceId: id, ResourceProperties: { ServiceToken: common.ServiceToken, ...p },
  });

  const canLogin = async (user: string, password: string) => {
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port: topology.primary.port, user, password });
      await c.end();
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    topology = await startTopology();
    secrets.set(ARN('admin'), { username: 'root', password: topology.primary.rootPassword });
    secrets.set(ARN('monitor'), { username: 'proxysql_monitor', password: 'mon-€-1' });
    secrets.set(ARN('app'), { username: 'app', password: `app'"\\-1` });
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stdout.push(String(chunk));
        return true;
      });
    }
    onEvent = createOnEventHandler({ getSecret, logger: powertoolsLogger() });
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await topology?.stop();
  });

  it('Create (twice) creates the users and returns a stable physical id', async () => {
    const first = await onEvent(create(props()));
    const second = await onEvent(create(props()));
    expect(first).toEqual({ PhysicalResourceId: 'db-bootstrap-127.0.0.1', Data: expect.objectContaining({ Flavour: 'mariadb', MonitorPrivilege: 'SLAVE MONITOR' }) });
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(await canLogin('app', `app'"\\-1`)).toBe(true);
    expect(await canLogin('proxysql_monitor', 'mon-€-1')).toBe(true);
  });

  it('Update (twice) rotates passwords and keeps the physical id', async () => {
    secrets.set(ARN('app'), { username: 'app', password: 'app-2 ü' });
    secrets.set(ARN('monitor'), { username: 'proxysql_monitor', password: 'mon-2' });
    for (let i = 0; i < 2; i++) {
      const res = await onEvent(update('db-bootstrap-127.0.0.1', props({ Revision: '2' }), props()));
      expect(res.PhysicalResourceId).toBe('db-bootstrap-127.0.0.1');
    }
    expect(await canLogin('app', `app'"\\-1`)).toBe(false);
    expect(await canLogin('app', 'app-2 ü')).toBe(true);
    expect(await canLogin('proxysql_monitor', 'mon-2')).toBe(true);
  });

  it('RequireSsl reaches the database: true makes the app user REQUIRE SSL (refused in clear text), false takes it off', async () => {
    const sslType = async () => {
      const root = await mysql.createConnection({ host: '127.0.0.1', port: topology.primary.port, user: 'root', password: topology.primary.rootPassword });
      const [rows] = await root.query<mysql.RowDataPacket[]>("SELECT ssl_type AS t FROM mysql.user WHERE User = 'app' AND Host = '%'");
      await root.end();
      return String(rows[0].t);
    };
    expect(await sslType()).toBe('');
    await onEvent(update('db-bootstrap-127.0.0.1', props({ RequireSsl: 'true' }), props()));
    expect(await sslType()).toBe('ANY');
    expect(await canLogin('app', 'app-2 ü')).toBe(false);
    // as a template before the property said: no requirement
    await onEvent(update('db-bootstrap-127.0.0.1', props({ RequireSsl: undefined }), props({ RequireSsl: 'true' })));
    expect(await sslType()).toBe('');
    expect(await canLogin('app', 'app-2 ü')).toBe(true);
  });

  it('Update locks a user removed from the list (grants kept) and unlocks it when it is listed again', async () => {
    secrets.set(ARN('reporting'), { username: 'reporting', password: 'rep-1' });
    const both = props({
      Users: JSON.stringify([
        { username: 'app', secretArn: ARN('app'), schema: 'app', privileges: ['ALL PRIVILEGES'] },
        { username: 'reporting', secretArn: ARN('reporting'), schema: 'reports', privileges: ['SELECT'] },
      ]),
    });
    await onEvent(update('db-bootstrap-127.0.0.1', both, props()));
    expect(await canLogin('reporting', 'rep-1')).toBe(true);

    await onEvent(update('db-bootstrap-127.0.0.1', props(), both));
    expect(await canLogin('reporting', 'rep-1')).toBe(false);
    expect(await canLogin('app', 'app-2 ü')).toBe(true);
    const root = await mysql.createConnection({ host: '127.0.0.1', port: topology.primary.port, user: 'root', password: topology.primary.rootPassword });
    const [grants] = await root.query<mysql.RowDataPacket[]>("SHOW GRANTS FOR 'reporting'@'%'");
    await root.end();
    expect(grants.map((g) => String(Object.values(g)[0]))).toContain('GRANT SELECT ON `reports`.* TO `reporting`@`%`');
    expect(stdout.join('')).toContain("locked user 'reporting'@'%': it was removed from the users list");

    await onEvent(update('db-bootstrap-127.0.0.1', both, props()));
    expect(await canLogin('reporting', 'rep-1')).toBe(true);
  });

  it('Create refuses an existing account it did not create, and takes it over when AdoptExistingUsers lists it', async () => {
    const root = await mysql.createConnection({ host: '127.0.0.1', port: topology.primary.port, user: 'root', password: topology.primary.rootPassword });
    await root.query("CREATE USER 'theirs'@'%' IDENTIFIED BY 'their-pw'");
    secrets.set(ARN('theirs'), { username: 'theirs', password: 'our-pw' });
    const withTheirs = (extra: Partial<BootstrapResourceProperties> = {}) =>
      props({ Users: JSON.stringify([{ username: 'theirs', secretArn: ARN('theirs'), schema: 'theirs', privileges: ['SELECT'] }]), ...extra });
    // The monitor exists from earlier tests with the same secret: it is recognised as ours by its password.
    await expect(onEvent(create(withTheirs()))).rejects.toThrow(/user 'theirs'@'%' already exists on the database and this stack did not create it/);
    expect(await canLogin('theirs', 'their-pw')).toBe(true);
    await onEvent(create(withTheirs({ AdoptExistingUsers: '["theirs"]' })));
    expect(await canLogin('theirs', 'our-pw')).toBe(true);
    await root.query("DROP USER 'theirs'@'%'");
    await root.end();
  });

  it('Update never locks the admin login or a system account, whatever the old properties said', async () => {
    const withRoot = props({ Users: JSON.stringify([{ username: 'root', secretArn: ARN('app'), schema: 'app', privileges: ['SELECT'] }]) });
    await expect(onEvent(update('db-bootstrap-127.0.0.1', props(), withRoot))).rejects.toThrow(/removed user \[0\]: 'root' is reserved/);
    expect(await canLogin('root', topology.primary.rootPassword)).toBe(true);
  });

  it('Delete keeps the users by default', async () => {
    const res = await onEvent(del('db-bootstrap-127.0.0.1', props()));
    expect(res).toEqual({ PhysicalResourceId: 'db-bootstrap-127.0.0.1' });
    expect(await canLogin('app', 'app-2 ü')).toBe(true);
  });

  it('Delete (twice) with DropUsersOnDelete=true drops them', async () => {
    for (let i = 0; i < 2; i++) await onEvent(del('db-bootstrap-127.0.0.1', props({ DropUsersOnDelete: 'true' })));
    expect(await canLogin('app', 'app-2 ü')).toBe(false);
    expect(await canLogin('proxysql_monitor', 'mon-2')).toBe(false);
  });

  it('a bad property fails with a message naming it', async () => {
    await expect(onEvent(create(props({ Users: JSON.stringify([{ username: 'a-b', secretArn: ARN('app'), schema: 'app', privileges: ['SELECT'] }]) })))).rejects.toThrow(
      /users\[0\]\.username: 'a-b' is not a valid user name/,
    );
    await expect(onEvent(create(props({ Users: 'nope' })))).rejects.toThrow(/resource property Users is not JSON/);
  });

  it('wrote Powertools JSON log lines, none holding a password', () => {
    const lines = stdout.join('').split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.some((l) => l.includes('"level":"ERROR"') && l.includes('Create failed'))).toBe(true);
    expect(JSON.parse(lines[0])).toMatchObject({ service: 'serverless-proxysql-db-bootstrap', level: 'INFO' });
    const passwords = [topology.primary.rootPassword, 'mon-€-1', `app'"\\-1`, JSON.stringify(`app'"\\-1`).slice(1, -1), 'app-2 ü', 'mon-2'];
    for (const line of lines) for (const pw of passwords) expect(line).not.toContain(pw);
  });
});

describe('tlsFromProperties: the Ssl and SslCa the DatabaseBootstrap construct sets', () => {
  it.each([
    [{ Ssl: 'false' }, false],
    [{ Ssl: 'true' }, 'rds'],
    [{}, 'rds'],
    [{ Ssl: 'unverified' }, 'unverified'],
    [{ Ssl: 'custom-ca', SslCa: 'PEM' }, { ca: 'PEM' }],
  ])('%j gives %j', (props, tls) => expect(tlsFromProperties(props)).toEqual(tls));

  it('refuses an unknown mode or a custom CA without its bundle, naming the property', () => {
    expect(() => tlsFromProperties({ Ssl: 'yes' })).toThrow("resource property Ssl: 'yes' is not one of false, true, custom-ca, unverified");
    expect(() => tlsFromProperties({ Ssl: 'custom-ca' })).toThrow('resource property SslCa is missing');
  });
});
