import * as fs from 'fs';
import * as path from 'path';

/**
 * The code this library deploys, built with the package (scripts/build-assets.ts, run by `npm run build`,
 * `prepack`, the test setup and `npm run synth`), as aws-cdk-lib ships its own custom-resource handlers: a
 * consumer's synth needs no esbuild, no Docker and no lock file, from any working directory.
 *
 * No aws-cdk-lib here: the build script reads this table too.
 */
export const LAMBDA_ASSETS = {
  /** The custom resource that creates the database users. */
  bootstrap: 'runtime/bootstrap/handler.ts',
  /** The demo HTTP API's function. */
  demo: 'runtime/demo/handler.ts',
  /** The metrics collector (ProxySqlMonitoring). */
  collector: 'runtime/collector/handler.ts',
} as const;

export type LambdaAssetName = keyof typeof LAMBDA_ASSETS;

/** The package's root: one level above both src/ (a checkout, run through tsx) and lib/ (the compiled package). */
export const PACKAGE_ROOT = path.join(__dirname, '..');

/** Where the prebuilt bundle of a Lambda asset lives: `assets/lambda/<name>/index.js`. */
export function lambdaAssetDir(name: LambdaAssetName): string {
  return path.join(PACKAGE_ROOT, 'assets', 'lambda', name);
}

/** The asset's folder, or an error that says how to get it. */
export function requireLambdaAsset(name: LambdaAssetName): string {
  const dir = lambdaAssetDir(name);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(
      `serverless-proxysql: the prebuilt '${name}' Lambda bundle is missing (${dir}/index.js). In a checkout, run \`npm run build:assets\`; an installed package ships it, so reinstall it.`,
    );
  }
  return dir;
}

/** The containers' shell scripts, shipped as they are (the ProxySQL and agent images run them with /bin/sh). */
export const CONTAINER_SCRIPTS = {
  entrypoint: path.join(PACKAGE_ROOT, 'runtime', 'proxysql', 'entrypoint.sh'),
  healthCheck: path.join(PACKAGE_ROOT, 'runtime', 'proxysql', 'healthcheck.sh'),
  agent: path.join(PACKAGE_ROOT, 'runtime', 'proxysql', 'agent.sh'),
  listening: path.join(PACKAGE_ROOT, 'runtime', 'proxysql', 'listening.sh'),
} as const;

/**
 * A container script as it travels in the task definition: without its comment lines (about a third of each file),
 * because every script shares ECS's 64 KiB per task definition with the rendered proxysql.cnf and the CA bundle.
 * Safe for these scripts: none has a line starting with `#` inside a string or here-document
 * (test/proxysql-container.test.ts runs `sh -n` on each result).
 */
export function containerScript(name: keyof typeof CONTAINER_SCRIPTS): string {
  return fs
    .readFileSync(CONTAINER_SCRIPTS[name], 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
}
