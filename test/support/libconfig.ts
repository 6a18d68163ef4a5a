/**
 * A small, strict parser for the libconfig subset that proxysql.cnf uses, so tests can read a rendered or
 * substituted config back field by field instead of grepping it.
 *
 * It follows libconfig's own scanner and grammar (hyperrealm/libconfig lib/scanner.l and lib/grammar.y,
 * the library ProxySQL bundles to read proxysql.cnf):
 * - settings are `name = value` or `name: value`, optionally ended by `;` or `,`; names match
 *   `[A-Za-z*][-A-Za-z0-9_*]*`; a duplicate name in one group is an error;
 * - groups `{ … }` become plain objects, lists `( … )` and arrays `[ … ]` become JS arrays (an array holds
 *   scalars of one type; a trailing comma is allowed in both, as in grammar.y);
 * - strings are double-quoted with the escapes `\"` `\\` `\n` `\r` `\t` `\f` `\xNN`; like libconfig, a
 *   backslash before any other character stays a literal backslash; adjacent strings are concatenated;
 *   `\xNN` adds one byte, and the bytes of a string must form valid UTF-8;
 * - integers (decimal, `0x` hex, either with an `L`/`LL` suffix), floats, booleans (`true`/`false` in any
 *   case) and comments (`#` and `//` to end of line, `/* … *\/`).
 * `@include` is not supported (proxysql.cnf never uses it). Integers beyond JS's safe range are rejected
 * rather than rounded. Errors are {@link LibconfigSyntaxError}s carrying a 1-based line and column.
 */

/** A syntax error in libconfig text, at a 1-based line and column. */
export class LibconfigSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`libconfig syntax error at ${line}:${column}: ${reason}`);
    this.name = 'LibconfigSyntaxError';
  }
}

type Punctuation = '=' | ',' | ';' | '{' | '}' | '[' | ']' | '(' | ')';

type Token =
  | { kind: 'punct'; text: Punctuation; offset: number }
  | { kind: 'name'; text: string; offset: number }
  | { kind: 'string'; value: string; offset: number }
  | { kind: 'boolean'; value: boolean; offset: number }
  | { kind: 'integer'; value: number; offset: number }
  | { kind: 'float'; value: number; offset: number }
  | { kind: 'eof'; offset: number };

type Scalar = string | number | boolean;

// The number patterns of scanner.l. Flex takes the longest match; on a tie, the rule listed first.
const NUMBER_RULES: ReadonlyArray<{ kind: 'float' | 'integer' | 'integer64' | 'hex' | 'hex64'; pattern: RegExp }> = [
  {
    kind: 'float',
    pattern: /(?:[-+]?[0-9]*\.[0-9]*(?:[eE][-+]?[0-9]+)?)|(?:[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+)/y,
  },
  { kind: 'integer', pattern: /[-+]?[0-9]+/y },
  { kind: 'integer64', pattern: /[-+]?[0-9]+LL?/y },
  { kind: 'hex', pattern: /0[Xx][0-9A-Fa-f]+/y },
  { kind: 'hex64', pattern: /0[Xx][0-9A-Fa-f]+LL?/y },
];
const NAME_PATTERN = /[A-Za-z*][-A-Za-z0-9_*]*/y;
const PUNCTUATION = new Set(['=', ':', ',', ';', '{', '}', '[', ']', '(', ')']);
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', f: '\f', '\\': '\\', '"': '"' };

class Lexer {
  private pos = 0;
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  error(offset: number, reason: string): LibconfigSyntaxError {
    let line = 0;
    while (line + 1 < this.lineStarts.length && this.lineStarts[line + 1] <= offset) line++;
    return new LibconfigSyntaxError(line + 1, offset - this.lineStarts[line] + 1, reason);
  }

  next(): Token {
    this.skipBlanks();
    const start = this.pos;
    if (start >= this.text.length) return { kind: 'eof', offset: start };
    const c = this.text[start];
    if (c === '"') return this.string();
    if (PUNCTUATION.has(c)) {
      this.pos++;
      return { kind: 'punct', text: c === ':' ? '=' : (c as Punctuation), offset: start };
    }
    if (c === '@') throw this.error(start, '@include and other directives are not supported');
    const number = this.number();
    if (number) return number;
    NAME_PATTERN.lastIndex = start;
    const name = NAME_PATTERN.exec(this.text);
    if (name) {
      this.pos = start + name[0].length;
      const lower = name[0].toLowerCase();
      if (lower === 'true' || lower === 'false') return { kind: 'boolean', value: lower === 'true', offset: start };
      return { kind: 'name', text: name[0], offset: start };
    }
    throw this.error(start, `unexpected character ${JSON.stringify(c)}`);
  }

  private skipBlanks(): void {
    const t = this.text;
    for (;;) {
      const c = t[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
        this.pos++;
      } else if (c === '#' || (c === '/' && t[this.pos + 1] === '/')) {
        const end = t.indexOf('\n', this.pos);
        this.pos = end === -1 ? t.length : end;
      } else if (c === '/' && t[this.pos + 1] === '*') {
        const end = t.indexOf('*/', this.pos + 2);
        if (end === -1) throw this.error(this.pos, 'unterminated /* comment');
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  private number(): Token | undefined {
    const start = this.pos;
    let best: { kind: (typeof NUMBER_RULES)[number]['kind']; text: string } | undefined;
    for (const rule of NUMBER_RULES) {
      rule.pattern.lastIndex = start;
      const m = rule.pattern.exec(this.text);
      if (m && (!best || m[0].length > best.text.length)) best = { kind: rule.kind, text: m[0] };
    }
    if (!best) return undefined;
    if (best.kind === 'float' && !/[0-9]/.test(best.text)) return undefined; // a lone '.' is no number
    this.pos = start + best.text.length;
    const digits = best.text.replace(/L+$/, '');
    if (best.kind === 'float') return { kind: 'float', value: Number(digits), offset: start };
    const big = BigInt(digits.startsWith('+') ? digits.slice(1) : digits);
    if (best.kind === 'hex' && big > 0xffffffffn) throw this.error(start, `hex value ${best.text} needs the L suffix`);
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw this.error(start, `integer ${best.text} is beyond the range this parser returns exactly`);
    }
    return { kind: 'integer', value: Number(big), offset: start };
  }

  private string(): Token {
    const start = this.pos;
    const t = this.text;
    const bytes: number[] = [];
    const encoder = new TextEncoder();
    let i = start + 1;
    let run = i;
    const flush = (end: number): void => {
      if (end > run) bytes.push(...encoder.encode(t.slice(run, end)));
    };
    for (;;) {
      if (i >= t.length) throw this.error(start, 'unterminated string');
      const c = t[i];
      if (c === '"') {
        flush(i);
        i++;
        break;
      }
      if (c !== '\\') {
        i++;
        continue;
      }
      flush(i);
      const e = t[i + 1];
      const hex = /^[Xx]([0-9A-Fa-f]{2})/.exec(t.slice(i + 1, i + 4));
      if (hex) {
        bytes.push(parseInt(hex[1], 16));
        i += 4;
      } else if (e !== undefined && e in SIMPLE_ESCAPES) {
        bytes.push(SIMPLE_ESCAPES[e].charCodeAt(0));
        i += 2;
      } else {
        bytes.push(0x5c); // libconfig keeps a backslash before any other character
        i += 1;
      }
      run = i;
    }
    this.pos = i;
    let value: string;
    try {
      value = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
    } catch {
      throw this.error(start, 'string is not valid UTF-8 (check its \\x escapes)');
    }
    return { kind: 'string', value, offset: start };
  }
}

class Parser {
  private token: Token;

  constructor(private readonly lexer: Lexer) {
    this.token = lexer.next();
  }

  configuration(): Record<string, unknown> {
    const root = this.settings();
    if (this.token.kind !== 'eof') throw this.unexpected('a setting name');
    return root;
  }

  private advance(): Token {
    const current = this.token;
    this.token = this.lexer.next();
    return current;
  }

  private isPunct(text: Punctuation): boolean {
    return this.token.kind === 'punct' && this.token.text === text;
  }

  private expectPunct(text: Punctuation, what: string): void {
    if (!this.isPunct(text)) throw this.unexpected(what);
    this.advance();
  }

  private unexpected(expected: string): LibconfigSyntaxError {
    const t = this.token;
    const found =
      t.kind === 'eof'
        ? 'end of input'
        : t.kind === 'punct'
          ? `'${t.text}'`
          : t.kind === 'name'
            ? `name '${t.text}'`
            : `${t.kind} value`;
    return this.lexer.error(t.offset, `expected ${expected}, found ${found}`);
  }

  /** Settings up to (not including) '}' or the end of input. */
  private settings(): Record<string, unknown> {
    const group: Record<string, unknown> = {};
    while (this.token.kind === 'name') {
      const name = this.advance() as Extract<Token, { kind: 'name' }>;
      if (Object.hasOwn(group, name.text)) throw this.lexer.error(name.offset, `duplicate setting name '${name.text}'`);
      this.expectPunct('=', `'=' or ':' after '${name.text}'`);
      group[name.text] = this.value();
      if (this.isPunct(';') || this.isPunct(',')) this.advance();
    }
    return group;
  }

  private value(): unknown {
    const t = this.token;
    if (t.kind === 'punct') {
      if (t.text === '{') {
        this.advance();
        const group = this.settings();
        this.expectPunct('}', "a setting name or '}'");
        return group;
      }
      if (t.text === '(') return this.sequence(')', false);
      if (t.text === '[') return this.sequence(']', true);
    }
    const scalar = this.scalar();
    if (scalar === undefined) throw this.unexpected('a value');
    return scalar;
  }

  private scalar(): Scalar | undefined {
    return this.typedScalar()?.value;
  }

  /** A scalar with its libconfig type (an integer and a float are different types even when 1 === 1.0). */
  private typedScalar(): { value: Scalar; type: Token['kind'] } | undefined {
    const t = this.token;
    if (t.kind === 'boolean' || t.kind === 'integer' || t.kind === 'float') {
      this.advance();
      return { value: t.value, type: t.kind };
    }
    if (t.kind !== 'string') return undefined;
    let text = '';
    while (this.token.kind === 'string') text += (this.advance() as Extract<Token, { kind: 'string' }>).value;
    return { value: text, type: 'string' };
  }

  /** A list `( … )` of any values, or an array `[ … ]` of scalars of one type; a trailing comma is allowed. */
  private sequence(close: ')' | ']', scalarsOnly: boolean): unknown[] {
    this.advance();
    const items: unknown[] = [];
    let elementType: string | undefined;
    while (!this.isPunct(close)) {
      if (scalarsOnly) {
        const offset = this.token.offset;
        const item = this.typedScalar();
        if (item === undefined) throw this.unexpected(`a scalar value or '${close}'`);
        if (elementType !== undefined && item.type !== elementType) {
          throw this.lexer.error(offset, `mismatched element type in array: ${item.type} after ${elementType}`);
        }
        elementType = item.type;
        items.push(item.value);
      } else {
        items.push(this.value());
      }
      if (this.isPunct(',')) this.advance();
      else if (!this.isPunct(close)) throw this.unexpected(`',' or '${close}'`);
    }
    this.advance();
    return items;
  }
}

/** Parses libconfig text (e.g. proxysql.cnf) into plain values; throws a {@link LibconfigSyntaxError}. */
export function parseLibconfig(text: string): Record<string, unknown> {
  return new Parser(new Lexer(text)).configuration();
}
