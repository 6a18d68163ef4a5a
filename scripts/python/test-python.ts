/**
 * `npm run test:python`: proves the construct library in Python, offline.
 *
 * 1. Generates the Python packages of every jsii library the wheel depends on (constructs, aws-cdk-lib and its jsii
 *    dependencies, cdk-monitoring-constructs) with jsii-pacmak from the assemblies in node_modules, and builds their
 *    wheels (cached per version: aws-cdk-lib takes about a minute).
 * 2. Builds this checkout's wheel (jsii-pacmak, as `npm run package:python` does).
 * 3. Installs it into a fresh virtual environment outside the repository, with the jsii Python runtime from a
 *    wheelhouse (see RUNTIME_HELP) and its other dependencies from this machine's Python package indexes.
 * 4. Synthesizes the Python reference app (app/python) from a working directory outside the repository, with no
 *    esbuild, no CDK CLI and a docker that fails, for two sets of inputs; synthesizes the TypeScript reference app
 *    with the same inputs and compares the templates (./parity.ts).
 * 5. Runs test/python/check_api.py in the same environment: what Python users meet (keyword arguments, enums,
 *    Duration, structs, grant_connect's Grant, synth errors).
 *
 * Fails, never skips: a missing runtime, index or tool is an error that names it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { run, RunResult } from '../../local/run';
import { buildReferenceApp } from '../../app/build-app';
import { AssetManifest, compareTemplates, formatParity, Template } from './parity';

const ROOT = path.resolve(__dirname, '..', '..');
const STACK = 'ServerlessProxySql';
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const PACMAK = require.resolve('jsii-pacmak/bin/jsii-pacmak');
const PACMAK_VERSION = (JSON.parse(fs.readFileSync(require.resolve('jsii-pacmak/package.json'), 'utf8')) as { version: string }).version;
const PYTHON = process.env.PYTHON ?? 'python3';
const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'serverless-proxysql', `python-pacmak-${PACMAK_VERSION}`);
/** Where the jsii Python runtime's wheels are looked for first. */
const WHEELHOUSE = path.resolve(process.env.SPX_PYTHON_WHEELHOUSE ?? path.join(ROOT, '..', 'shared', 'tools', 'python-wheels'));

/**
 * The Python side of jsii that no npm package carries: the runtime (the version jsii-pacmak generates for: its code
 * requires `jsii>=PACMAK_VERSION`), the module every generated package imports, and the typeguard the runtime pins
 * (aws/jsii packages/@jsii/python-runtime/setup.py, TYPEGUARD_VERSION).
 */
const RUNTIME = [
  { requirement: `jsii==${PACMAK_VERSION}`, wheel: new RegExp(`^jsii-${PACMAK_VERSION.replace(/\./g, '\\.')}-.*\\.whl$`) },
  { requirement: 'publication>=0.0.3', wheel: /^publication-.*\.whl$/ },
  { requirement: 'typeguard==2.13.3', wheel: /^typeguard-2\.13\.3-.*\.whl$/ },
] as const;
const RUNTIME_HELP = [
  `They are PyPI packages, and this machine reaches no PyPI. Put their wheels in ${WHEELHOUSE} (or a folder named by`,
  'SPX_PYTHON_WHEELHOUSE), for example from a machine that reaches PyPI:',
  `  pip download --no-deps -d <folder> ${RUNTIME.map((r) => `'${r.requirement}'`).join(' ')}`,
].join('\n');

/** The two sets of inputs both apps are synthesized with: offline (no region), and with the region `cdk deploy` sets. */
const INPUTS: ReadonlyArray<{ name: string; env: Record<string, string> }> = [
  { name: 'offline, no region', env: {} },
  { name: 'CDK_DEFAULT_REGION=eu-west-1, account 123456789012', env: { CDK_DEFAULT_REGION: 'eu-west-1', CDK_DEFAULT_ACCOUNT: '123456789012' } },
];

class Failure extends Error {}

function step(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function must(what: string, result: Promise<RunResult>): Promise<RunResult> {
  const r = await result;
  if (r.status !== 0) {
    const how = r.error ? `could not start (${r.error.message})` : r.signal ? `was killed by ${r.signal}` : `exited with ${r.status}`;
    throw new Failure(`${what} ${how}:\n${(r.stderr + r.stdout).trim().split('\n').slice(-25).join('\n')}`);
  }
  return r;
}

/** The jsii libraries a package needs in Python: its jsii dependencies and theirs, not the ones it bundles. */
function jsiiDependencyClosure(packageDir: string, seen = new Map<string, string>()): Map<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    bundledDependencies?: string[];
    bundleDependencies?: string[];
  };
  const bundled = new Set([...(pkg.bundledDependencies ?? []), ...(pkg.bundleDependencies ?? [])]);
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    if (bundled.has(name) || seen.has(name)) continue;
    const dir = path.dirname(require.resolve(`${name}/package.json`, { paths: [packageDir, ROOT] }));
    const dependency = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { jsii?: unknown };
    if (dependency.jsii === undefined) continue;
    seen.set(name, dir);
    jsiiDependencyClosure(dir, seen);
  }
  return seen;
}

async function checkPython(): Promise<void> {
  const version = await run(PYTHON, ['-c', 'import sys, venv; print("%d.%d.%d" % sys.version_info[:3])']);
  if (version.status !== 0) throw new Failure(`${PYTHON} with the venv module is needed (set PYTHON to another interpreter): ${version.error?.message ?? version.stderr.trim()}`);
  const [major, minor] = version.stdout.trim().split('.').map(Number);
  if (major !== 3 || minor < 10) throw new Failure(`${PYTHON} is Python ${version.stdout.trim()}; the generated packages need 3.10 or newer (python_requires)`);
  console.log(`python: ${PYTHON} ${version.stdout.trim()}`);
}

/** Each runtime requirement's wheel in the wheelhouse, or an error naming the missing ones and where to get them. */
async function checkRuntime(probeVenvPip: string): Promise<void> {
  const files = fs.existsSync(WHEELHOUSE) ? fs.readdirSync(WHEELHOUSE) : [];
  const missing: string[] = [];
  for (const item of RUNTIME) {
    const file = files.find((f) => item.wheel.test(f));
    if (file) {
      console.log(`runtime: ${item.requirement} from ${path.join(WHEELHOUSE, file)}`);
      continue;
    }
    // Not in the wheelhouse: maybe the machine's package indexes have it.
    const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-probe-'));
    const found = await run(probeVenvPip, ['download', '--no-deps', '--retries', '0', '--timeout', '15', '-q', '-d', probe, item.requirement]);
    fs.rmSync(probe, { recursive: true, force: true });
    if (found.status === 0) console.log(`runtime: ${item.requirement} from the package indexes`);
    else missing.push(item.requirement);
  }
  if (missing.length > 0) {
    throw new Failure(`the jsii Python runtime is not on this machine: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (not in ${WHEELHOUSE}, not in pip's indexes).\n${RUNTIME_HELP}`);
  }
}

/** A virtual environment with `build`, `setuptools` and `wheel`, to build the generated packages' wheels. */
async function builderVenv(): Promise<string> {
  const venv = path.join(CACHE, 'builder-venv');
  const python = path.join(venv, 'bin', 'python');
  if (!fs.existsSync(path.join(venv, '.ready'))) {
    fs.rmSync(venv, { recursive: true, force: true });
    await must(`${PYTHON} -m venv ${venv}`, run(PYTHON, ['-m', 'venv', venv]));
    await must(
      'installing build, setuptools and wheel from the package indexes',
      run(path.join(venv, 'bin', 'pip'), ['install', '-q', '--retries', '0', 'build', 'setuptools>=70', 'wheel']),
    );
    fs.writeFileSync(path.join(venv, '.ready'), '');
  }
  return python;
}

/** Generates a jsii library's Python package and builds its wheel into `wheels`; returns the wheel's path. */
async function pythonWheel(builder: string, packageDir: string, wheels: string, scratch: string): Promise<string> {
  const out = fs.mkdtempSync(path.join(scratch, 'pacmak-'));
  await must(`jsii-pacmak for ${packageDir}`, run(process.execPath, [PACMAK, '--targets', 'python', '--code-only', '-o', out, packageDir], { env: quietJsii() }));
  const before = new Set(fs.existsSync(wheels) ? fs.readdirSync(wheels) : []);
  // The generated pyproject.toml pins setuptools/build versions the indexes may not have; the code needs neither pin.
  await must(
    `building the wheel of ${packageDir}`,
    run(builder, ['-m', 'build', '--no-isolation', '--skip-dependency-check', '--wheel', '-o', wheels, path.join(out, 'python')]),
  );
  fs.rmSync(out, { recursive: true, force: true });
  const built = fs.readdirSync(wheels).filter((f) => f.endsWith('.whl') && !before.has(f));
  if (built.length !== 1) throw new Failure(`building the wheel of ${packageDir} left ${built.length} new wheels in ${wheels}`);
  return path.join(wheels, built[0]);
}

function quietJsii(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Node 20 is what this machine has; the banner jsii prints about it on every start says nothing new.
  return { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1', ...extra };
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

async function main(): Promise<void> {
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-python-'));
  const results: Array<{ name: string; ok: boolean }> = [];
  try {
    step('prerequisites');
    await checkPython();
    fs.mkdirSync(CACHE, { recursive: true });
    const builder = await builderVenv();
    await checkRuntime(path.join(path.dirname(builder), 'pip'));

    step('the jsii libraries in Python (jsii-pacmak from node_modules)');
    const dependencyWheels = path.join(CACHE, 'wheels');
    fs.mkdirSync(dependencyWheels, { recursive: true });
    for (const [name, dir] of jsiiDependencyClosure(ROOT)) {
      const version = readJson<{ version: string }>(path.join(dir, 'package.json')).version;
      const marker = path.join(dependencyWheels, `${name.replace('/', '+')}@${version}.wheel`);
      if (fs.existsSync(marker) && fs.existsSync(fs.readFileSync(marker, 'utf8'))) {
        console.log(`${name} ${version}: ${path.basename(fs.readFileSync(marker, 'utf8'))} (cached)`);
        continue;
      }
      const t = Date.now();
      const wheel = await pythonWheel(builder, dir, dependencyWheels, work);
      fs.writeFileSync(marker, wheel);
      console.log(`${name} ${version}: ${path.basename(wheel)}, ${mib(fs.statSync(wheel).size)}, ${seconds(t)}`);
    }

    step(`this checkout's wheel (${PACKAGE.name} ${PACKAGE.version})`);
    let t = Date.now();
    const ownWheels = path.join(work, 'wheel');
    // pacmak packs the package (npm pack), which runs prepack: jsii, the prebuilt Lambda code, the CLI.
    const ownWheel = await pythonWheel(builder, ROOT, ownWheels, work);
    console.log(`${path.basename(ownWheel)}: ${mib(fs.statSync(ownWheel).size)} (${fs.statSync(ownWheel).size} bytes), built in ${seconds(t)}`);

    step('a fresh virtual environment outside the repository');
    t = Date.now();
    const venv = path.join(work, 'venv');
    await must(`${PYTHON} -m venv`, run(PYTHON, ['-m', 'venv', venv]));
    const python = path.join(venv, 'bin', 'python');
    const install = await must(
      `pip install ${PACKAGE.name}`,
      run(path.join(venv, 'bin', 'pip'), [
        'install', '--retries', '0', '--find-links', ownWheels, '--find-links', dependencyWheels, '--find-links', WHEELHOUSE, `${PACKAGE.name}==${PACKAGE.version}`,
      ]),
    );
    console.log(install.stdout.split('\n').find((l) => l.startsWith('Successfully installed')) ?? '(installed)');
    console.log(`installed in ${seconds(t)}`);

    // A working directory outside the repository, with the app's files only; no node_modules/.bin on PATH (no
    // esbuild, no CDK CLI) and a docker that fails if anything calls it.
    const appDir = path.join(work, 'app');
    fs.mkdirSync(appDir);
    for (const file of ['app.py', 'reference_stack.py', 'cdk.json', 'requirements.txt']) fs.copyFileSync(path.join(ROOT, 'app', 'python', file), path.join(appDir, file));
    const pathWithoutNodeModules = [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');

    for (const [index, inputs] of INPUTS.entries()) {
      step(`synthesize, ${inputs.name}: Python (the wheel) and TypeScript (app/build-app.ts)`);
      t = Date.now();
      const pyOut = path.join(work, `python.out.${index}`);
      const env = quietJsii({ ...inputs.env, PATH: pathWithoutNodeModules, CDK_OUTDIR: pyOut, CDK_DOCKER: '/bin/false' });
      for (const name of ['CDK_DEFAULT_REGION', 'CDK_DEFAULT_ACCOUNT']) if (!(name in inputs.env)) delete env[name];
      await must(`python app.py (${inputs.name})`, run(python, ['app.py'], { cwd: appDir, env }));
      console.log(`Python app synthesized in ${seconds(t)} into ${pyOut}`);

      const tsOut = path.join(work, `typescript.out.${index}`);
      const saved = { region: process.env.CDK_DEFAULT_REGION, account: process.env.CDK_DEFAULT_ACCOUNT };
      delete process.env.CDK_DEFAULT_REGION;
      delete process.env.CDK_DEFAULT_ACCOUNT;
      Object.assign(process.env, inputs.env);
      try {
        buildReferenceApp(new App({ outdir: tsOut })).app.synth();
      } finally {
        for (const [name, value] of [['CDK_DEFAULT_REGION', saved.region], ['CDK_DEFAULT_ACCOUNT', saved.account]] as const) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
      const report = compareTemplates(
        readJson<Template>(path.join(tsOut, `${STACK}.template.json`)),
        readJson<Template>(path.join(pyOut, `${STACK}.template.json`)),
        { first: readJson<AssetManifest>(path.join(tsOut, `${STACK}.assets.json`)), second: readJson<AssetManifest>(path.join(pyOut, `${STACK}.assets.json`)) },
      );
      console.log(formatParity(`TypeScript vs Python template (${inputs.name})`, report));
      results.push({ name: `parity: ${inputs.name}`, ok: report.equal });
    }

    step('what Python users meet (test/python/check_api.py)');
    fs.copyFileSync(path.join(ROOT, 'test', 'python', 'check_api.py'), path.join(appDir, 'check_api.py'));
    const env = quietJsii({ PATH: pathWithoutNodeModules, CDK_DOCKER: '/bin/false' });
    const checks = await run(python, ['check_api.py'], { cwd: appDir, env });
    process.stdout.write(checks.stdout);
    if (checks.status !== 0) process.stdout.write(checks.stderr.split('\n').slice(-30).join('\n'));
    for (const line of checks.stdout.split('\n')) {
      const m = /^(ok|FAIL) +(.*)$/.exec(line);
      if (m) results.push({ name: `api: ${m[2]}`, ok: m[1] === 'ok' });
    }
    if (checks.status !== 0 && !results.some((r) => r.name.startsWith('api:') && !r.ok)) results.push({ name: 'api: check_api.py ran to its end', ok: false });
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    console.error(`\ntest:python: ${error.message}`);
    results.push({ name: 'setup', ok: false });
  } finally {
    if (process.env.SPX_KEEP_PYTHON_WORK) console.log(`\nkept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) console.log(`failed: ${r.name}`);
  console.log(`\ntest:python took ${seconds(started)}`);
  console.log(`python: ${results.length - failed.length} passed, ${failed.length} failed`);
  process.exitCode = failed.length === 0 && results.length > 0 ? 0 : 1;
}

void main().catch((error: unknown) => {
  console.error(error);
  console.log('python: 0 passed, 1 failed');
  process.exitCode = 1;
});

