import { describe, expect, it } from 'vitest';
import { LibconfigSyntaxError, parseLibconfig } from './libconfig';

function syntaxError(text: string): LibconfigSyntaxError {
  try {
    parseLibconfig(text);
  } catch (e) {
    if (e instanceof LibconfigSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(text)}`);
}

describe('parseLibconfig', () => {
  it('reads a proxysql.cnf-shaped file: groups, lists of groups, both assignment forms, terminators', () => {
    const text = [
      '# proxysql.cnf',
      'datadir="/var/lib/proxysql"',
      'admin_variables=',
      '{',
      '  # why',
      '  admin_credentials="admin:s3cret"',
      '  mysql_ifaces: "127.0.0.1:6032";',
      '}',
      'mysql_users=',
      '(',
      '  { username="app", password="p", active=1, default_hostgroup=10, transaction_persistent=1 },',
      '  { username="ro", password="q", active=1, default_hostgroup=20 }',
      ')',
    ].join('\n');
    expect(parseLibconfig(text)).toEqual({
      datadir: '/var/lib/proxysql',
      admin_variables: { admin_credentials: 'admin:s3cret', mysql_ifaces: '127.0.0.1:6032' },
      mysql_users: [
        { username: 'app', password: 'p', active: 1, default_hostgroup: 10, transaction_persistent: 1 },
        { username: 'ro', password: 'q', active: 1, default_hostgroup: 20 },
      ],
    });
  });

  it('decodes every libconfig string escape and keeps a backslash before anything else', () => {
    const cnf = String.raw`s = "q\"b\\n\n t\t f\f r\r x\x41\x7e \q \$ end";`;
    expect(parseLibconfig(cnf).s).toBe('q"b\\n\n t\t f\f r\r xA~ \\q \\$ end');
  });

  it('decodes \\xNN escapes as bytes of UTF-8 and passes raw UTF-8 through', () => {
    expect(parseLibconfig(String.raw`a = "\xc3\xa4-ä-日本-€";`).a).toBe('ä-ä-日本-€');
    expect(syntaxError(String.raw`a = "\xff";`).column).toBe(5);
  });

  it('concatenates adjacent strings across whitespace, newlines and comments', () => {
    expect(parseLibconfig('a = "one" "two"\n  /* c */ "three" # x\n "four";').a).toBe('onetwothreefour');
  });

  it('keeps # and // inside strings and skips all comment forms outside them', () => {
    const text = '// line\n/* block\n spanning */ a = "#not // a comment" # trailing\nb = 2 // more\n';
    expect(parseLibconfig(text)).toEqual({ a: '#not // a comment', b: 2 });
  });

  it('reads integers, L suffixes, hex, floats and case-insensitive booleans', () => {
    const text = 'i=-42; j=+7; big=9007199254740991L; h=0x1F; h64=0xFFFFFFFFFFL; f=1.5; g=-.25; e=1e3; e2=2.5E-1;' +
      ' t=TRUE; u=False; promoted=3000000000';
    expect(parseLibconfig(text)).toEqual({
      i: -42,
      j: 7,
      big: 9007199254740991,
      h: 31,
      h64: 0xffffffffff,
      f: 1.5,
      g: -0.25,
      e: 1000,
      e2: 0.25,
      t: true,
      u: false,
      promoted: 3000000000,
    });
  });

  it('reads arrays of one scalar type, nested lists and trailing commas', () => {
    expect(parseLibconfig('a=[1,2,3,]; b=("x", [true,false], {c=1}, ()); e=[]; f={};')).toEqual({
      a: [1, 2, 3],
      b: ['x', [true, false], { c: 1 }, []],
      e: [],
      f: {},
    });
  });

  it('accepts names with *, - and _ and an empty file', () => {
    expect(parseLibconfig('*star-name_1 = 1')).toEqual({ '*star-name_1': 1 });
    expect(parseLibconfig('  # nothing\n')).toEqual({});
  });

  it.each([
    ['a = 1\nb = ', 2, 5, 'expected a value, found end of input'],
    ['a = 1\n  b 2', 2, 5, "expected '=' or ':' after 'b'"],
    ['a = "x\n\n', 1, 5, 'unterminated string'],
    ['x = 1\ny = {\n  z = 1\n', 4, 1, "expected a setting name or '}'"],
    ['a = 1; a = 2;', 1, 8, "duplicate setting name 'a'"],
    ['a = [1, "x"]', 1, 9, 'mismatched element type in array: string after integer'],
    ['a = [1, 1.0]', 1, 9, 'mismatched element type in array: float after integer'],
    ['a = [{b=1}]', 1, 6, "expected a scalar value or ']'"],
    ['a = (1,,2)', 1, 8, 'expected a value'],
    ['a = (1 2)', 1, 8, "expected ',' or ')'"],
    ['a = 1 }', 1, 7, 'expected a setting name'],
    ['a = 1 /* open', 1, 7, 'unterminated /* comment'],
    ['@include "x.cfg"', 1, 1, '@include'],
    ['a = 0x100000000', 1, 5, 'needs the L suffix'],
    ['a = 99999999999999999999L', 1, 5, 'beyond the range'],
    ['a = $', 1, 5, 'unexpected character "$"'],
    ['a = .', 1, 5, 'unexpected character "."'],
  ])('rejects %j at %i:%i (%s)', (text, line, column, reason) => {
    const error = syntaxError(text);
    expect({ line: error.line, column: error.column }).toEqual({ line, column });
    expect(error.message).toContain(`${line}:${column}`);
    expect(error.message).toContain(reason);
  });

  it('treats a missing terminator between settings as fine (libconfig terminators are optional)', () => {
    expect(parseLibconfig('a=1 b=2, c=3;')).toEqual({ a: 1, b: 2, c: 3 });
  });
});
