import { IConstruct } from 'constructs';

/** Errors that already name their construct: not prefixed twice. */
class ConstructPathError extends Error {}

/**
 * Runs a construct's prop checks so that what they throw names the construct's path as well as the prop
 * (`Stack/Proxy: ProxySqlServiceProps.cpu: …`): in an app with several proxies, the one at fault. The checks
 * themselves (src/config/rules.ts) stay free of aws-cdk-lib and of paths.
 */
export function withConstructPath<T>(scope: IConstruct, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof Error && !(error instanceof ConstructPathError)) {
      throw new ConstructPathError(`${scope.node.path}: ${error.message}`);
    }
    throw error;
  }
}
