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
      throw new ConstructPathError(`${scope.node.path}: ${withPythonSpelling(error.message)}`);
    }
    throw error;
  }
}

/** A prop path as the messages write it: `ProxySqlServiceProps.users[1].username`, `…Options.replicationCheckType`. */
const PROP_PATH = /\b\w+(?:Props|Options)((?:\.[A-Za-z]\w*(?:\[\d+\])?)+)/;

/**
 * The message with the Python spelling of the first prop path it names at its end (`… got 99 (in Python:
 * read_your_writes_statements)`): jsii gives Python users snake_case keyword arguments, and a message naming only the
 * TypeScript spelling names a keyword they never wrote.
 */
export function withPythonSpelling(message: string): string {
  const match = PROP_PATH.exec(message);
  if (!match || !/[A-Z]/.test(match[1])) return message;
  // jsii-pacmak's snake_case: a capital starts a new word (`backendCa` → `backend_ca`).
  const python = match[1].slice(1).replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return `${message} (in Python: ${python})`;
}
