#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser test of the approval page
# (test/api/ui.test.ts drives it with playwright-core). Playwright's own browser download
# (`npx playwright install`) is never used: this machine cannot fetch it, and Debian's package can.
#
# Quick and idempotent: when /usr/bin/chromium exists it only prints its version.
# Otherwise, as root with apt-get, it runs `apt-get update` and `apt-get install chromium`
# (Debian's package, with the libraries it needs). Anything else: a clear message and exit 1.
set -euo pipefail

chromium=/usr/bin/chromium

if [[ -x "$chromium" ]]; then
  echo "ensure-chromium: $("$chromium" --version 2>/dev/null || echo "$chromium") is present"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $chromium is missing and cannot be installed here (needs root and apt-get)." >&2
  echo "ensure-chromium: install Debian's chromium package (apt-get install chromium), then rerun." >&2
  exit 1
fi

echo "ensure-chromium: $chromium is missing; installing Debian's chromium package (apt-get update, apt-get install chromium)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq || ! apt-get install -y -qq chromium >/dev/null; then
  echo "ensure-chromium: apt-get could not install chromium; the browser test of the UI cannot run." >&2
  exit 1
fi
if [[ ! -x "$chromium" ]]; then
  echo "ensure-chromium: the chromium package installed, but $chromium is still missing." >&2
  exit 1
fi
echo "ensure-chromium: installed $("$chromium" --version 2>/dev/null || echo "$chromium")"
