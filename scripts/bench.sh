#!/usr/bin/env bash
# `npm run bench:<name>`: prepares what a benchmark needs (moto venv, local services, a migrated
# database of its own, guardduty_responder_bench) and runs bench/<name>.ts with the rest of the
# arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
# The SDK warns once per process that its 2027 releases need Node 22; noise in every test worker.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
name="$1"; shift
[[ -d node_modules ]] || npm ci
bash scripts/ensure-moto.sh >/dev/null
bash scripts/ensure-services.sh >/dev/null
export DATABASE_URL="${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/guardduty_responder_bench}"
bash scripts/prisma.sh generate >/dev/null 2>&1
bash scripts/prisma.sh migrate deploy >/dev/null 2>&1
exec npx tsx "bench/$name.ts" "$@"
