/** Request parsing for the demo API: pure functions, no database. */

export const NAME_MAX_CHARS = 200;
export const IDEMPOTENCY_KEY_MAX_CHARS = 64;
export const LIST_LIMIT_DEFAULT = 20;
export const LIST_LIMIT_MAX = 100;

/**
 * Idempotency keys are compared byte for byte (an ASCII, binary-collated column), so they are restricted to
 * characters that have one spelling: a UUID, a ULID or a client's own token fit.
 */
const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** A lone UTF-16 surrogate (from JSON such as "\ud800") cannot be stored in a utf8mb4 column. */
const LONE_SURROGATE = /\p{Cs}/u;

export interface CreateItemRequest {
  readonly name: string;
  readonly idempotencyKey?: string;
}

/** A client error: the status and the field it is about go into the response. */
export class RequestError extends Error {
  constructor(
    readonly statusCode: 400 | 404 | 405 | 409,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Parses the body of `POST /items`; throws a RequestError naming the offending field. */
export function parseCreateItem(body: string | undefined, isBase64Encoded: boolean | undefined): CreateItemRequest {
  if (body === undefined || body === '') {
    throw new RequestError(400, 'the request body is missing: send a JSON object such as {"name": "my item"}', 'body');
  }
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RequestError(400, 'the request body is not valid JSON: send a JSON object such as {"name": "my item"}', 'body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RequestError(400, `the request body must be a JSON object, got ${describe(parsed)}`, 'body');
  }
  const fields = parsed as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => k !== 'name' && k !== 'idempotencyKey');
  if (unknown.length > 0) {
    throw new RequestError(400, `unknown field '${unknown[0].slice(0, 50)}': only 'name' and 'idempotencyKey' are accepted`, unknown[0].slice(0, 50));
  }

  const { name, idempotencyKey } = fields;
  if (name === undefined) throw new RequestError(400, "'name' is required: a string of 1 to 200 characters", 'name');
  if (typeof name !== 'string') throw new RequestError(400, `'name' must be a string, got ${describe(name)}`, 'name');
  if (name.trim() === '') throw new RequestError(400, "'name' must not be empty or blank", 'name');
  // Counted in Unicode code points, as MariaDB/MySQL count VARCHAR(200) characters.
  const chars = [...name].length;
  if (chars > NAME_MAX_CHARS) {
    throw new RequestError(400, `'name' must be at most ${NAME_MAX_CHARS} characters, got ${chars}`, 'name');
  }
  if (LONE_SURROGATE.test(name)) {
    throw new RequestError(400, "'name' contains an unpaired UTF-16 surrogate: send valid Unicode text", 'name');
  }

  if (idempotencyKey === undefined) return { name };
  if (typeof idempotencyKey !== 'string') {
    throw new RequestError(400, `'idempotencyKey' must be a string, got ${describe(idempotencyKey)}`, 'idempotencyKey');
  }
  if (idempotencyKey.length < 1 || idempotencyKey.length > IDEMPOTENCY_KEY_MAX_CHARS || !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
    throw new RequestError(
      400,
      `'idempotencyKey' must be 1 to ${IDEMPOTENCY_KEY_MAX_CHARS} characters of A-Z a-z 0-9 . _ : - (a UUID fits)`,
      'idempotencyKey',
    );
  }
  return { name, idempotencyKey };
}

/** Parses `limit` of `GET /items?limit=N`; throws a RequestError naming `limit`. */
export function parseListLimit(query: Readonly<Record<string, string | undefined>> | undefined): number {
  const raw = query?.limit;
  if (raw === undefined || raw === '') return LIST_LIMIT_DEFAULT;
  if (!/^[0-9]{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > LIST_LIMIT_MAX) {
    throw new RequestError(400, `'limit' must be an integer from 1 to ${LIST_LIMIT_MAX}, got '${raw.slice(0, 20)}'`, 'limit');
  }
  return Number(raw);
}
