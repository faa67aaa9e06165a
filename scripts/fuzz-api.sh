#!/usr/bin/env bash
# API fuzz pass: schemathesis (pinned, in the project's .venv) generates requests from the OpenAPI
# document the API serves and sends them with an admin token; any 5xx, and any answer that breaks
# the document (status, content type, headers, schema) or an auth check, fails the run (exit 1).
# The API runs against a throwaway database (migrated, dropped afterwards) and its own Redis key
# prefix on the local servers. Bounded: FUZZ_MAX_EXAMPLES per operation (default 30), well under
# three minutes.
#   bash scripts/fuzz-api.sh            FUZZ_EXCLUDE= for every check schemathesis has
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="4.32.5"
VENV=".venv"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-30}"
# Every check but two whose premise this API rejects on purpose: positive_data_acceptance (a
# schema-valid but forged pagination cursor is a 400, a body that is not a GuardDuty event a 422
# with its ingest reason, a __proto__ key a 400) and unsupported_method (Fastify answers 404, not
# 405, for a method no route has). FUZZ_CHECKS and FUZZ_EXCLUDE override.
CHECKS="${FUZZ_CHECKS:-all}"
EXCLUDE="${FUZZ_EXCLUDE-positive_data_acceptance,unsupported_method}"
SUFFIX="$(node -e 'console.log(require("crypto").randomBytes(5).toString("hex"))')"
ADMIN_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/guardduty_responder}"
export DATABASE_URL="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$ADMIN_URL" "gdr_fuzz_$SUFFIX")"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export QUEUE_PREFIX="gdr-fuzz-$SUFFIX"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

bash scripts/ensure-moto.sh >/dev/null # creates .venv when it is missing
if [[ "$("$VENV/bin/python" -c 'import schemathesis; print(schemathesis.__version__)' 2>/dev/null || true)" != "$SCHEMATHESIS_VERSION" ]]; then
  echo "fuzz-api: installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
DATABASE_URL="$ADMIN_URL" bash scripts/ensure-services.sh >/dev/null

api_pid=""
workdir="$(mktemp -d)"
cleanup() {
  if [[ -n "$api_pid" ]]; then kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; fi
  npx tsx scripts/fuzz-api.ts drop || echo "fuzz-api: could not drop gdr_fuzz_$SUFFIX" >&2
  node -e '
    const Redis = require("ioredis"); const r = new Redis(process.argv[1]); let n = 0;
    const s = r.scanStream({ match: process.argv[2] + ":*", count: 1000 });
    s.on("data", (keys) => { if (keys.length) { n += keys.length; void r.del(...keys); } });
    s.on("end", () => setTimeout(() => r.quit(), 100));' "$REDIS_URL" "$QUEUE_PREFIX" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT

bash scripts/prisma.sh migrate deploy >/dev/null
TOKEN="$(npx tsx scripts/fuzz-api.ts token)"
PORT="$(node -e 's = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"

# One process (no npx/tsx wrapper), so the pid killed at exit is the server itself.
API_PORT="$PORT" API_HOST=127.0.0.1 API_RATE_LIMIT_PER_MINUTE=100000 LOG_LEVEL=warn \
  node --import tsx services/api/src/main.ts >"$workdir/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/healthz" && break
  kill -0 "$api_pid" 2>/dev/null || { echo "fuzz-api: the API exited:" >&2; cat "$workdir/api.log" >&2; exit 1; }
  sleep 0.2
done

# The document needs a token like every route but /healthz: fetch it with the admin token first.
node -e '
  fetch(process.argv[1], { headers: { authorization: "Bearer " + process.argv[2] } })
    .then(async (r) => { if (!r.ok) throw new Error("/docs/json answered " + r.status); require("fs").writeFileSync(process.argv[3], await r.text()); })
    .catch((e) => { console.error("fuzz-api: " + e.message); process.exit(1); });' \
  "http://127.0.0.1:$PORT/docs/json" "$TOKEN" "$workdir/openapi.json"

echo "fuzz-api: schemathesis $SCHEMATHESIS_VERSION against the document served at /docs/json (checks: $CHECKS${EXCLUDE:+ except $EXCLUDE}, $MAX_EXAMPLES examples per operation)"
started=$SECONDS
set +e
"$VENV/bin/st" run "$workdir/openapi.json" \
  --url "http://127.0.0.1:$PORT" \
  -H "Authorization: Bearer $TOKEN" \
  --checks "$CHECKS" \
  ${EXCLUDE:+--exclude-checks "$EXCLUDE"} \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 10 \
  --seed "${FUZZ_SEED:-1}" \
  --generation-database none
status=$?
set -e
echo "fuzz-api: schemathesis finished in $((SECONDS - started)) s with exit code $status"
if grep -q '"statusCode":5' "$workdir/api.log" || grep -qi '"level":50' "$workdir/api.log"; then
  echo "fuzz-api: the API logged server errors:" >&2
  grep -E '"level":(50|60)' "$workdir/api.log" | head -20 >&2
  status=1
fi
[[ "$status" -eq 0 ]] || exit 1
echo "fuzz-api: no server error"
