#!/usr/bin/env bash
# Installs moto (the AWS emulator the integration tests run in server mode) into the project's own
# virtualenv, .venv, at a pinned version. Idempotent: does nothing when that version is there.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION="5.2.5"
VENV=".venv"

installed_version() {
  "$VENV/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null || true
}

if ! command -v python3 >/dev/null 2>&1; then
  echo "ensure-moto: python3 was not found on PATH. The integration tests run moto, a Python" >&2
  echo "ensure-moto: program; install Python 3.9 or newer with its venv module, then run this again." >&2
  exit 1
fi

if [[ -x "$VENV/bin/moto_server" && "$(installed_version)" == "$MOTO_VERSION" ]]; then
  echo "ensure-moto: moto $MOTO_VERSION is installed in $VENV"
  exit 0
fi

# A virtualenv whose interpreter no longer runs (Python upgraded or moved) is rebuilt from scratch.
if [[ -e "$VENV" ]] && ! "$VENV/bin/python" -c 'pass' >/dev/null 2>&1; then
  echo "ensure-moto: $VENV is broken; recreating it"
  python3 -m venv --clear "$VENV"
elif [[ ! -e "$VENV" ]]; then
  echo "ensure-moto: creating $VENV"
  if ! python3 -m venv "$VENV"; then
    echo "ensure-moto: 'python3 -m venv' failed; on Debian/Ubuntu install python3-venv" >&2
    exit 1
  fi
fi

echo "ensure-moto: installing moto[server]==$MOTO_VERSION into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"

if [[ "$(installed_version)" != "$MOTO_VERSION" || ! -x "$VENV/bin/moto_server" ]]; then
  echo "ensure-moto: moto $MOTO_VERSION did not install correctly into $VENV" >&2
  exit 1
fi
echo "ensure-moto: moto $MOTO_VERSION is installed in $VENV"
