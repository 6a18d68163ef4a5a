#!/usr/bin/env bash
# `npm test`: the whole test suite on a fresh machine. Installs what it needs (node_modules, MariaDB), then
# type-checks, lints and runs every test (unit, CDK assertions, cdk-nag, real-MariaDB runtime tests).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing node modules (npm ci)…"
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-mariadb.sh

echo "type-check (tsc --noEmit)…"
npx tsc -p tsconfig.json --noEmit
echo "lint (eslint)…"
npx eslint .
echo "tests (vitest)…"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line with the counts (vitest's own summary is decorated).
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
exit "$status"
