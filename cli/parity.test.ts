import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, test } from 'vitest';
import { substituteSecrets } from '../src/config';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService } from '../src/proxysql-service';
import { givenStack } from '../test/support/stack';
import { renderCommand } from './render';

/**
 * One model, no drift: the file `serverless-proxysql render` prints is byte for byte the file a ProxySQL task
 * writes from the construct's template, given the same backend, users and secrets.
 */
describe('render ↔ construct parity', () => {
  test('endpoints backend, two users', () => {
    // GIVEN the construct with an RDS-style backend and two users with secrets the user brings
    const { stack, vpc } = givenStack();
    const proxy = new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.endpoints({
        writer: { hostname: 'primary.abc.us-east-1.rds.amazonaws.com' },
        readers: [{ hostname: 'replica-1.abc.us-east-1.rds.amazonaws.com' }, { hostname: '10.0.3.7', port: 3307 }],
        databaseConnections: new ec2.SecurityGroup(stack, 'Db', { vpc }),
      }),
      users: [
        { username: 'app', secret: new secretsmanager.Secret(stack, 'App') },
        { username: 'batch_job', secret: new secretsmanager.Secret(stack, 'Batch') },
      ],
    });
    const secrets = { admin: 'Adm1n-x', stats: 'St4ts-w', monitor: 'M0n-y', app: 'App-z$`&/', batch: 'B@tch "q" \\' };
    // WHEN the task fills in its secrets (what the entrypoint does) …
    const template = Stack.of(proxy).resolve(proxy.configTemplate) as string;
    expect(typeof template).toBe('string'); // no deploy-time token in this backend
    const taskFile = substituteSecrets(template, {
      PROXYSQL_ADMIN_PASSWORD: secrets.admin,
      PROXYSQL_STATS_PASSWORD: secrets.stats,
      PROXYSQL_MONITOR_PASSWORD: secrets.monitor,
      PROXYSQL_USER_PASSWORD_0: secrets.app,
      PROXYSQL_USER_PASSWORD_1: secrets.batch,
    });
    // … and the CLI renders the same input
    const cli = renderCommand(
      [
        '--writer', 'primary.abc.us-east-1.rds.amazonaws.com:3306',
        '--reader', 'replica-1.abc.us-east-1.rds.amazonaws.com:3306',
        '--reader', '10.0.3.7:3307',
        '--user', 'app', '--user', 'batch_job',
      ],
      {
        PROXYSQL_ADMIN_PASSWORD: secrets.admin,
        PROXYSQL_STATS_PASSWORD: secrets.stats,
        PROXYSQL_MONITOR_PASSWORD: secrets.monitor,
        PROXYSQL_USER_PASSWORD_0: secrets.app,
        PROXYSQL_USER_PASSWORD_1: secrets.batch,
      },
    );
    // THEN both are the same file
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toBe(taskFile);
  });

  test("RDS Proxy's knobs: the props and the --config keys render the same file", () => {
    const { stack, vpc } = givenStack();
    const proxy = new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.endpoints({ writer: { hostname: 'primary.abc.us-east-1.rds.amazonaws.com' }, databaseConnections: new ec2.SecurityGroup(stack, 'Db', { vpc }) }),
      users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'App') }],
      borrowTimeout: Duration.seconds(120),
      idleClientTimeout: Duration.seconds(60),
      initQuery: 'SET SESSION innodb_lock_wait_timeout=5',
    });
    const env = { PROXYSQL_ADMIN_PASSWORD: 'a', PROXYSQL_STATS_PASSWORD: 's', PROXYSQL_MONITOR_PASSWORD: 'm', PROXYSQL_USER_PASSWORD_0: 'u' };
    const taskFile = substituteSecrets(Stack.of(proxy).resolve(proxy.configTemplate) as string, env);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'parity-')), 'config.json');
    fs.writeFileSync(file, JSON.stringify({ borrowTimeout: 120, idleClientTimeout: 60, initQuery: 'SET SESSION innodb_lock_wait_timeout=5' }));
    const cli = renderCommand(['--writer', 'primary.abc.us-east-1.rds.amazonaws.com:3306', '--user', 'app', '--config', file], env);
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toBe(taskFile);
    expect(cli.stdout).toContain('init_connect="SET SESSION innodb_lock_wait_timeout=5"');
  });

  test('servers outside RDS with TLS on and no CA: the construct and render both warn backendTlsUnverified', () => {
    const { stack, vpc } = givenStack();
    new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db.example.com' } }),
      users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'App') }],
      bootstrap: false,
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Proxy', Match.stringLikeRegexp('serverless-proxysql:backendTlsUnverified'));
    const cli = renderCommand(['--writer', 'db.example.com', '--user', 'app', '--masked'], {});
    expect(cli.exitCode).toBe(0);
    expect(cli.stderr).toMatch(/^warning: TLS to the database is encrypted but not authenticated \(serverless-proxysql:backendTlsUnverified/);
  });

  test('imported Aurora cluster', () => {
    const { stack, vpc } = givenStack();
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Orders', {
      clusterIdentifier: 'orders',
      clusterEndpointAddress: 'orders.cluster-c9akciq32.eu-west-1.rds.amazonaws.com',
      port: 3306,
      instanceIdentifiers: ['orders-1', 'orders-2'],
      securityGroups: [new ec2.SecurityGroup(stack, 'Db', { vpc })],
    });
    const proxy = new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.auroraCluster(cluster),
      users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'App') }],
    });
    const env = { PROXYSQL_ADMIN_PASSWORD: 'a1', PROXYSQL_STATS_PASSWORD: 's1', PROXYSQL_MONITOR_PASSWORD: 'm1', PROXYSQL_USER_PASSWORD_0: 'u1' };
    const taskFile = substituteSecrets(Stack.of(proxy).resolve(proxy.configTemplate) as string, env);
    const cli = renderCommand(
      ['--aurora-cluster-endpoint', 'orders.cluster-c9akciq32.eu-west-1.rds.amazonaws.com', '--aurora-instance', 'orders-1', '--aurora-instance', 'orders-2', '--user', 'app'],
      { PROXYSQL_ADMIN_PASSWORD: 'a1', PROXYSQL_STATS_PASSWORD: 's1', PROXYSQL_MONITOR_PASSWORD: 'm1', PROXYSQL_USER_PASSWORD_0: 'u1' },
    );
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toBe(taskFile);
  });
});
