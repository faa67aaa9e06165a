#!/usr/bin/env bash
# `npm test`: every test, unit and integration, on real services. Arguments go to vitest
# (`npm test -- test/harness.test.ts`, `npm test -- --project unit`).
#
# Services: TEST_DATABASE_URL / TEST_REDIS_URL when set (DATABASE_URL / REDIS_URL stand in for
# them); else containers, when a Docker engine answers; else the local servers, started if needed
# (scripts/ensure-services.sh). test/support/global-setup.ts makes the same choice.
#
# The last line printed is always `N passed, N failed` alone (the plain closing line CI reads: vitest
# is not among the runners whose own summary it knows); the exit code is vitest's, and non-zero
# when no test ran at all.
set -euo pipefail
cd "$(dirname "$0")/.."
# The SDK warns once per process that its 2027 releases need Node 22; noise in every test worker.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

if [[ ! -d node_modules ]]; then
  echo "test: installing dependencies (npm ci)"
  npm ci
fi

bash scripts/ensure-moto.sh

[[ -n "${DATABASE_URL:-}" ]] && export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$DATABASE_URL}"
[[ -n "${REDIS_URL:-}" ]] && export TEST_REDIS_URL="${TEST_REDIS_URL:-$REDIS_URL}"

if [[ -z "${TEST_DATABASE_URL:-}" && -z "${TEST_REDIS_URL:-}" ]] && command -v docker >/dev/null 2>&1 &&
  timeout 10 docker info >/dev/null 2>&1; then
  echo "test: a Docker engine answers; Postgres and Redis will run in containers (testcontainers)"
else
  DATABASE_URL="${TEST_DATABASE_URL:-}" REDIS_URL="${TEST_REDIS_URL:-}" bash scripts/ensure-services.sh
fi

# Generating needs no database, but prisma.config.ts needs a URL to build its adapter.
DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/guardduty_responder}" \
  CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 npx prisma generate >/dev/null

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
set -e

read -r passed failed total < <(node -e '
  let r = {};
  try { r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch {}
  console.log(r.numPassedTests ?? 0, r.numFailedTests ?? 0, r.numTotalTests ?? 0);' "$report")

if [[ "$status" -eq 0 && "$((passed + failed))" -eq 0 ]]; then
  echo "test: no test ran (of $total found); treating that as a failure"
  status=1
fi
echo "$passed passed, $failed failed"
exit "$status"
