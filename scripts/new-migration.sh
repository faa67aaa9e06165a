#!/usr/bin/env bash
# Writes a new migration: the SQL that takes the schema as of the newest migration to the current
# prisma/schema.prisma, into prisma/migrations/<UTC timestamp>_<name>/migration.sql.
#   bash scripts/new-migration.sh add_finding_notes     (or: npm run db:new-migration -- NAME)
# NEW_MIGRATION_SCHEMA=path diffs to another schema file instead (for trying the script out).
#
# Why not `prisma migrate dev` / `migrate diff --from-migrations`: both need a shadow database,
# which the pg driver adapter cannot provide here (see shared PRISMA.md). The diff between two
# datamodels needs no database at all.
#
# Where "the schema as of the newest migration" comes from: git. It is prisma/schema.prisma as of
# the newest commit that touched prisma/migrations, so a migration must be committed together
# with the schema change it was made from (one commit, as a reviewer wants to see them anyway).
# Chosen over keeping a schema copy beside each migration: no second file to keep in step, and
# the history already holds it. The script refuses to run while the newest migration is not
# committed, since its schema cannot be known then.
#
# Before hand-editing the SQL, know this: Prisma's migration runner with the pg adapter splits a
# script at EVERY semicolon -- inside comments, string literals and $$ dollar-quoted function
# bodies too -- and sends the pieces one by one. Write no semicolon except between statements; in
# a PL/pgSQL body, use an E'...' string with \073 for each semicolon (see the init migration's
# audit_events trigger).
set -euo pipefail
cd "$(dirname "$0")/.."

name="${1:-}"
if [[ -z "$name" ]]; then
  echo "usage: bash scripts/new-migration.sh NAME   (e.g. add_finding_notes)" >&2
  exit 2
fi
name="$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_' '_')"

newest="$(find prisma/migrations -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' | sort | tail -n 1)"
if [[ -z "$newest" ]]; then
  echo "new-migration: there is no migration yet in prisma/migrations to diff from" >&2
  exit 1
fi
# The newest commit that touched any migration, not the one that added the newest: a migration
# amended later (before any deployment) was amended together with the schema it now matches.
commit="$(git log --format=%H -n 1 -- prisma/migrations)"
if [[ -n "$(git status --porcelain -- prisma/migrations)" ]]; then commit=""; fi
if [[ -z "$commit" ]]; then
  echo "new-migration: prisma/migrations has uncommitted changes, so the schema they were made from is unknown." >&2
  echo "new-migration: commit it together with prisma/schema.prisma first, or delete it and run this again." >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git show "$commit:prisma/schema.prisma" > "$tmp/base.prisma"

# Through the wrapper: with the adapter even a datamodel-to-datamodel diff connects to DATABASE_URL.
bash scripts/prisma.sh migrate diff \
  --from-schema-datamodel "$tmp/base.prisma" \
  --to-schema-datamodel "${NEW_MIGRATION_SCHEMA:-prisma/schema.prisma}" \
  --script > "$tmp/migration.sql"

if ! grep -qv -e '^--' -e '^[[:space:]]*$' "$tmp/migration.sql"; then
  echo "new-migration: prisma/schema.prisma has no change since $newest; nothing to write" >&2
  exit 1
fi

# Migrations run in name order: never sort before the newest one, whatever this machine's clock says.
stamp="$(date -u +%Y%m%d%H%M%S)"
last="$(basename "$newest" | cut -d_ -f1)"
if [[ ! "$stamp" > "$last" ]]; then stamp="$((last + 1))"; fi

dir="prisma/migrations/${stamp}_${name}"
mkdir -p "$dir"
cp "$tmp/migration.sql" "$dir/migration.sql"
echo "new-migration: wrote $dir/migration.sql (diff from the schema of $(git log -1 --format='%h %s' "$commit"))"
if grep -n ';.*;' "$dir/migration.sql" | grep -q .; then
  echo "new-migration: note: a line holds more than one semicolon; see the warning at the top of this script" >&2
fi
