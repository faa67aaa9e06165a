#!/usr/bin/env bash
# `npm run demo`: the whole service on this machine. Installs what is missing (npm packages,
# the moto venv), makes sure Postgres and Redis run, creates and migrates a database of its own
# (guardduty_responder_demo), then runs scripts/demo/main.ts with this script's arguments
# (`npm run demo -- --serve` keeps the services running after the report).
set -euo pipefail
cd "$(dirname "$0")/.."
# The SDK warns once per process that its 2027 releases need Node 22; noise in every test worker.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

if [[ ! -d node_modules ]]; then
  echo "demo: installing dependencies (npm ci)"
  npm ci
fi
bash scripts/ensure-moto.sh
bash scripts/ensure-services.sh

export DATABASE_URL="${DEMO_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/guardduty_responder_demo}"
bash scripts/prisma.sh generate >/dev/null
bash scripts/prisma.sh migrate deploy >/dev/null
echo "demo: database ${DATABASE_URL##*/} migrated"
exec npx tsx scripts/demo/main.ts "$@"
