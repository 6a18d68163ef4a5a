import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { synthesizeReferenceApp } from '../../app/synth';
import { findSecretLeaks, findTemplateLeaks, Leak, listScannedFiles, REQUIRED_EXCLUDED_CHARACTERS } from '../support/hygiene';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-hygiene-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const kinds = (leaks: Leak[]) => leaks.map((l) => l.kind);

/** A task definition and a Lambda function as CloudFormation writes them, secrets referenced properly. */
function cleanTemplate(): Record<string, unknown> {
  return {
    Resources: {
      Secret: {
        Type: 'AWS::SecretsManager::Secret',
        Properties: {
          GenerateSecretString: { SecretStringTemplate: '{"username":"admin"}', GenerateStringKey: 'password', ExcludeCharacters: `"'\\/@:;*` },
        },
      },
      Task: {
        Type: 'AWS::ECS::TaskDefinition',
        Properties: {
          ContainerDefinitions: [
            {
              Environment: [
                { Name: 'PROXYSQL_CONFIG_TEMPLATE', Value: 'admin_variables=\n{\n  # replaces the default stats:stats\n  admin_credentials="admin:{{secret:admin:PROXYSQL_ADMIN_PASSWORD}}"\n}\n' },
                { Name: 'PROXYSQL_ADMIN_PASSWORD_SOURCE', Value: { Ref: 'Secret' } },
                { Name: 'API_KEY_ARN', Value: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:k' },
              ],
              Secrets: [{ Name: 'PROXYSQL_ADMIN_PASSWORD', ValueFrom: { 'Fn::Join': ['', [{ Ref: 'Secret' }, ':password::']] } }],
            },
          ],
        },
      },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Environment: { Variables: { DB_SECRET: { Ref: 'Secret' }, TOKEN_TABLE: { 'Fn::GetAtt': ['T', 'Arn'] }, LOG_LEVEL: 'INFO' } } },
      },
      Db: {
        Type: 'AWS::RDS::DBCluster',
        Properties: { MasterUserPassword: '{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:111111111111:secret:db:SecretString:password::}}' },
      },
    },
  };
}

function withResource(resource: Record<string, unknown>): Record<string, unknown> {
  const template = cleanTemplate();
  (template.Resources as Record<string, unknown>).Leaky = resource;
  return template;
}

describe('findTemplateLeaks finds each kind of leak (so the check can fail)', () => {
  test('a template whose secrets are referenced has no leak', () => {
    expect(findTemplateLeaks(cleanTemplate())).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['a literal MasterUserPassword', { Type: 'AWS::RDS::DBCluster', Properties: { MasterUserPassword: 'hunter2hunter2' } }, 'Resources.Leaky.Properties.MasterUserPassword'],
    ['a literal SecretString', { Type: 'AWS::SecretsManager::Secret', Properties: { SecretString: '{"password":"x"}' } }, 'Resources.Leaky.Properties.SecretString'],
    ['a literal custom-resource credential', { Type: 'Custom::X', Properties: { AdminCredentials: 'root:pw' } }, 'Resources.Leaky.Properties.AdminCredentials'],
    ['a password inside SecretStringTemplate', { Type: 'AWS::SecretsManager::Secret', Properties: { GenerateSecretString: { SecretStringTemplate: '{"username":"u","password":"p4ss"}', GenerateStringKey: 'x', ExcludeCharacters: `'"\\:;*` } } }, 'SecretStringTemplate.(parsed).password'],
    ['a literal monitor_password in a proxysql.cnf text', { Type: 'AWS::ECS::TaskDefinition', Properties: { ContainerDefinitions: [{ Environment: [{ Name: 'CFG', Value: 'mysql_variables=\n{\n  monitor_password="s3cret"\n}\n' }] }] } }, 'Environment[0].Value'],
  ])('password-literal: %s', (_name, resource, where) => {
    const leaks = findTemplateLeaks(withResource(resource));
    expect(kinds(leaks)).toEqual(['password-literal']);
    expect(leaks[0].location).toContain(where);
  });

  test.each<[string, unknown]>([
    ['admin:admin in a config text', 'admin_variables=\n{\n  admin_credentials="admin:admin"\n}\n'],
    ['stats:stats in a config text', 'x=1\nadmin_credentials="stats:stats"\n'],
    ['monitor/monitor as user and password', 'mysql_variables=\n{\n  monitor_username="monitor"\n  monitor_password="monitor"\n}\n'],
    ['MYSQL_ROOT_PASSWORD in a command', 'docker run -e MYSQL_ROOT_PASSWORD mysql'],
  ])('default-credential: %s', (_name, value) => {
    const template = withResource({ Type: 'AWS::ECS::TaskDefinition', Properties: { ContainerDefinitions: [{ Command: [value] }] } });
    expect(kinds(findTemplateLeaks(template))).toContain('default-credential');
  });

  test('default-credential: a {username, password} object of monitor/monitor', () => {
    const leaks = findTemplateLeaks(withResource({ Type: 'Custom::X', Properties: { Login: { username: 'monitor', password: 'monitor' } } }));
    expect(kinds(leaks)).toContain('default-credential');
  });

  test('a default credential only mentioned in a comment line is not a leak', () => {
    const template = withResource({ Type: 'AWS::ECS::TaskDefinition', Properties: { ContainerDefinitions: [{ Command: ['# never admin:admin or stats:stats\necho ok'] }] } });
    expect(findTemplateLeaks(template)).toEqual([]);
  });

  test.each<[string, Record<string, unknown>]>([
    ['a container PASSWORD env with a literal', { Type: 'AWS::ECS::TaskDefinition', Properties: { ContainerDefinitions: [{ Environment: [{ Name: 'DB_PASSWORD', Value: 'p' }] }] } }],
    ['a container TOKEN env with a literal', { Type: 'AWS::ECS::TaskDefinition', Properties: { ContainerDefinitions: [{ Environment: [{ Name: 'GITHUB_TOKEN', Value: 'ghp_x' }] }] } }],
    ['a Lambda SECRET env with a literal', { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { CLIENT_SECRET: 'abc' } } } }],
    ['a Lambda KEY env with a Join that is no ARN', { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { API_KEY: { 'Fn::Join': ['', ['k-', '123']] } } } } }],
  ])('plain-secret-env: %s', (_name, resource) => {
    const leaks = findTemplateLeaks(withResource(resource));
    expect(kinds(leaks)).toEqual(['plain-secret-env']);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['no ExcludeCharacters', { GenerateStringKey: 'password', SecretStringTemplate: '{"username":"a"}' }, /no ExcludeCharacters/],
    ['ExcludeCharacters without the colon and star', { GenerateStringKey: 'password', ExcludeCharacters: `'"\\;` }, /misses : \*/],
  ])('weak-generated-secret: %s', (_name, generate, detail) => {
    const leaks = findTemplateLeaks(withResource({ Type: 'AWS::SecretsManager::Secret', Properties: { GenerateSecretString: generate } }));
    expect(kinds(leaks)).toEqual(['weak-generated-secret']);
    expect(leaks[0].detail).toMatch(detail);
  });

  test('every required character is checked one by one', () => {
    for (const c of REQUIRED_EXCLUDED_CHARACTERS) {
      const exclude = REQUIRED_EXCLUDED_CHARACTERS.filter((x) => x !== c).join('');
      const leaks = findTemplateLeaks({ S: { GenerateSecretString: { ExcludeCharacters: exclude } } });
      expect(leaks.map((l) => l.detail), c).toEqual([`ExcludeCharacters misses ${c}`]);
    }
  });

  test('a leak never carries the value it found', () => {
    const leaks = findTemplateLeaks(withResource({ Type: 'Custom::X', Properties: { Password: 'VerySecretValue42', Environment: { Variables: { TOKEN: 'VerySecretValue42' } } } }));
    expect(leaks).toHaveLength(2);
    expect(JSON.stringify(leaks)).not.toContain('VerySecretValue42');
  });
});

describe('findSecretLeaks over a directory', () => {
  test('finds leaks in templates, tree.json and bundled code, naming the file', () => {
    // GIVEN a cloud assembly with one leak of each place: template, tree.json, an asset's code
    const dir = path.join(tmp, 'synthetic');
    fs.mkdirSync(path.join(dir, 'asset.abc'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'Clean.template.json'), JSON.stringify(cleanTemplate()));
    fs.writeFileSync(path.join(dir, 'Leaky.template.json'), JSON.stringify(withResource({ Type: 'AWS::RDS::DBInstance', Properties: { MasterUserPassword: 'pw' } })));
    fs.writeFileSync(path.join(dir, 'tree.json'), JSON.stringify({ tree: { children: { S: { attributes: { 'aws:cdk:cloudformation:props': { generateSecretString: {} } } } } } }));
    fs.writeFileSync(path.join(dir, 'asset.abc', 'index.js'), '// admin:admin is the default\nconst creds = "admin:admin";\n');
    fs.writeFileSync(path.join(dir, 'asset.abc', 'blob.bin'), Buffer.from([0, 1, 2]));
    // WHEN scanned
    const leaks = findSecretLeaks(dir);
    // THEN each is found where it is; the comment line and the binary are not
    expect(leaks.map((l) => [l.file, l.kind, l.location])).toEqual([
      ['Leaky.template.json', 'password-literal', 'Resources.Leaky.Properties.MasterUserPassword'],
      [path.join('asset.abc', 'index.js'), 'default-credential', 'line 2'],
      ['tree.json', 'weak-generated-secret', 'tree.children.S.attributes.aws:cdk:cloudformation:props.generateSecretString'],
    ]);
  });
});

describe('the reference app (everything `npm run synth` writes)', () => {
  const outdir = path.join(tmp, 'cdk.out');
  beforeAll(() => {
    synthesizeReferenceApp(outdir);
  });

  test('the scan covers the template, manifest, tree.json and the bundled code of every Lambda', () => {
    const files = listScannedFiles(outdir).map((f) => path.relative(outdir, f));
    expect(files).toEqual(expect.arrayContaining(['manifest.json', 'tree.json', 'ServerlessProxySql.template.json', 'ServerlessProxySql.assets.json']));
    // the bootstrap and demo handlers (esbuild bundles with mysql2 inside) and aws-cdk-lib's own handlers
    const code = files.filter((f) => /^asset\.[0-9a-f]+\/.*\.js$/.test(f));
    const bundled = code.filter((f) => fs.statSync(path.join(outdir, f)).size > 100_000);
    expect(bundled.length).toBeGreaterThanOrEqual(2);
    expect(code.length).toBeGreaterThan(bundled.length);
  });

  test('holds no secret: no literal password, default credential, plain secret env var or weak generated secret', () => {
    expect(findSecretLeaks(outdir)).toEqual([]);
  });

  test('the ProxySQL config template is scanned and passes because every credential is a placeholder', () => {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'ServerlessProxySql.template.json'), 'utf8')) as object;
    const text = JSON.stringify(template);
    expect(text).toContain('admin_credentials=\\"admin:{{secret:admin:PROXYSQL_ADMIN_PASSWORD}}\\"');
    // the same template with the placeholder replaced by a literal is caught
    const leaky = JSON.parse(text.replace('{{secret:admin:PROXYSQL_ADMIN_PASSWORD}}', 'admin')) as object;
    expect(findTemplateLeaks(leaky).map((l) => [l.kind, l.detail])).toEqual(
      expect.arrayContaining([
        ['password-literal', expect.stringContaining("setting 'admin_credentials'")],
        ['default-credential', expect.stringContaining('admin:admin')],
      ]),
    );
  });
});
