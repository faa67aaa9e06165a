#!/usr/bin/env bash
# The Prisma CLI the way this project needs it (see shared PRISMA.md): DATABASE_URL is always set,
# because prisma.config.ts builds the pg driver adapter from it and without one the CLI tries to
# download native engines this network cannot reach. Commands that talk to the database get it
# created first, so `npm run db:migrate` works on a fresh server.
#   bash scripts/prisma.sh migrate deploy
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/guardduty_responder}"
export CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1

case "${1:-}" in
  generate | format | validate | version | --version | -v | help | --help | -h | "") ;;
  *) node --import tsx scripts/ensure-database.ts >&2 ;; # stdout stays Prisma's (migrate diff --script)
esac

exec npx prisma "$@"
