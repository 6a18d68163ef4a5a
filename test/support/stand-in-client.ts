/**
 * A stand-in MariaDB client for the container scripts' tests (agent.sh, healthcheck.sh), which CI runs without a
 * ProxySQL: a sh script that answers `--version` as MariaDB 11.8.3's client does (so the scripts pick --skip-ssl),
 * appends each call's argv and MYSQL_PWD to `<dir>/calls` as one line `argv|password`, reads -P and -e into
 * $port and $sql, and then runs `answer`: sh lines that may read files in $d (= `dir`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeStandInClient(file: string, dir: string, answer: readonly string[]): string {
  fs.writeFileSync(
    file,
    [
      '#!/bin/sh',
      `d='${dir}'`,
      `if [ "$1" = --version ]; then echo "${path.basename(file)} from 11.8.3-MariaDB"; exit 0; fi`,
      'printf "%s|%s\\n" "$*" "${MYSQL_PWD-}" >> "$d/calls"',
      'port= sql=; while [ $# -gt 0 ]; do case $1 in -P) port=$2 ;; -e) sql=$2 ;; esac; shift; done',
      ...answer,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

/** The lines the stand-in recorded in `<dir>/calls` (argv|MYSQL_PWD), '' before the first call. */
export function standInCalls(dir: string): string {
  const file = path.join(dir, 'calls');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}
