/**
 * Failures of the network or of a server that is not (yet) there, as Node.js and mysql2 report them: the one list
 * the bootstrap (waiting for a new database) and the demo handler (classifying a failure) both read.
 */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND', // a new cluster's DNS name can take a while to resolve
  'EAI_AGAIN',
]);

/** The step of attempt `attempt` (>= 1) of an exponential backoff: `baseMs` doubling, capped at `capMs`. */
export function backoffStepMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** (attempt - 1));
}
