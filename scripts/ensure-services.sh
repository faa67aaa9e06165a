#!/usr/bin/env bash
# Makes sure Postgres and Redis answer at DATABASE_URL and REDIS_URL (the local servers by
# default). A local server that is installed but stopped is started, with the same commands the
# machine uses at boot; a remote one is only checked. Fails saying what is missing and how to
# point the project at another server.
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/guardduty_responder}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

# host and port of a URL, the way Node reads it (handles [::1], user:pass@, missing ports).
read -r PG_HOST PG_PORT < <(node -e 'const u = new URL(process.argv[1]); console.log(u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", u.port || 5432)' "$DATABASE_URL")
read -r REDIS_HOST REDIS_PORT < <(node -e 'const u = new URL(process.argv[1]); console.log(u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", u.port || 6379)' "$REDIS_URL")

is_local() { [[ "$1" == "localhost" || "$1" == "::1" || "$1" =~ ^127\. ]]; }

tcp_open() { # host port
  node -e 'const s = require("net").connect(+process.argv[2], process.argv[1]);
    s.setTimeout(2000, () => process.exit(1)); s.on("connect", () => process.exit(0)); s.on("error", () => process.exit(1));' "$1" "$2"
}

postgres_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

redis_answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" == "PONG" ]]
  else
    tcp_open "$REDIS_HOST" "$REDIS_PORT"
  fi
}

wait_for() { # check-function
  for _ in $(seq 60); do
    if "$1"; then return 0; fi
    sleep 0.5
  done
  return 1
}

missing() { # service url-variable example host:port
  echo "ensure-services: $1 does not answer at $4 (from $2)." >&2
  echo "ensure-services: install and start $1 on this machine, or point the project at a running one" >&2
  echo "ensure-services: with $2 (e.g. $2=$3)." >&2
  exit 1
}

if postgres_answers; then
  echo "ensure-services: postgres answers at $PG_HOST:$PG_PORT"
elif is_local "$PG_HOST" && command -v pg_ctlcluster >/dev/null 2>&1 && [[ -d /etc/postgresql ]]; then
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  echo "ensure-services: starting the local postgres $version cluster"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for postgres_answers || missing Postgres DATABASE_URL "postgresql://user:password@host:5432/guardduty_responder" "$PG_HOST:$PG_PORT"
  echo "ensure-services: postgres answers at $PG_HOST:$PG_PORT"
else
  missing Postgres DATABASE_URL "postgresql://user:password@host:5432/guardduty_responder" "$PG_HOST:$PG_PORT"
fi

if redis_answers; then
  echo "ensure-services: redis answers at $REDIS_HOST:$REDIS_PORT"
elif is_local "$REDIS_HOST" && command -v redis-server >/dev/null 2>&1; then
  # Nothing is kept on disk: the tests start from empty keys anyway.
  dir=/var/lib/redis
  log=/var/log/redis/ci.log
  if [[ ! -w "$dir" || ! -w "$(dirname "$log")" ]]; then
    dir="$PWD/.data/redis"
    log="$dir/redis.log"
    mkdir -p "$dir"
  fi
  echo "ensure-services: starting a local redis on port $REDIS_PORT (log: $log)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$dir" --logfile "$log" || true
  wait_for redis_answers || missing Redis REDIS_URL "redis://host:6379" "$REDIS_HOST:$REDIS_PORT"
  echo "ensure-services: redis answers at $REDIS_HOST:$REDIS_PORT"
else
  missing Redis REDIS_URL "redis://host:6379" "$REDIS_HOST:$REDIS_PORT"
fi
